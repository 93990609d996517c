import Testing
@testable import WatcherCore

@Suite struct SlurmStepTests {
    let id = BatchID(run: "course", phase: "p2", index: 7)

    @Test func jobNameNamesTheAttempt() {
        #expect(SlurmStep.jobName(id, attempt: 3) == "aw-course-p2-7-3")
    }

    @Test func srunArgvWrapsTheAgentsArgvAfterTheSettings() {
        let argv = SlurmStep.argv(agent: ["claude", "-p", "--x"], settings: SlurmSettings(partition: "gpu", account: "lab", time: "01:00:00",
                                                                                      cpus: 4, mem: "8G", extra: ["--qos=low"]),
                                  jobName: "aw-course-p2-7-3", comment: "agent-watcher 1:2 t", workingDirectory: "/w")
        #expect(argv.first == "srun")
        #expect(argv.contains("--job-name=aw-course-p2-7-3"))
        #expect(argv.contains("--comment=agent-watcher 1:2 t"))
        #expect(argv.contains("--chdir=/w"))
        for option in ["--partition=gpu", "--account=lab", "--time=01:00:00", "--cpus-per-task=4", "--mem=8G", "--qos=low"] {
            #expect(argv.contains(option), "\(option)")
        }
        let dashes = argv.firstIndex(of: "--")
        #expect(dashes.map { Array(argv[($0 + 1)...]) } == ["claude", "-p", "--x"], "the agent's argv comes after --, untouched")
        let bare = SlurmStep.argv(agent: ["a"], settings: SlurmSettings(), jobName: "n", comment: "c", workingDirectory: "/w")
        #expect(!bare.contains { $0.hasPrefix("--partition") || $0.hasPrefix("--mem") }, "unset settings are left to Slurm")
    }

    @Test(arguments: [
        ("srun: jobid 12: nodes(1):`vm', cpu counts: 1(x1)\n", "12"),
        ("srun: job 40 queued and waiting for resources\n", "40"),
        ("srun: defined options\nsrun: job-name : aw-x\nsrun: jobid 9: nodes(1)\n", "9"),
        ("srun: defined options\nsrun: job-name            : aw-r-p-1-1\n", nil),
        ("", nil),
    ] as [(String, String?)])
    func jobIDIsReadFromSrunsMessages(text: String, expected: String?) {
        #expect(SlurmStep.jobID(inStderr: text[...]) == expected)
    }

    @Test func cancelGoesThroughSlurmByIdOrName() {
        #expect(SlurmStep.cancelArgv(jobID: "12", jobName: "aw-a-b-1-1", terminateOnly: true) == ["scancel", "--quiet", "--signal=TERM", "12"])
        #expect(SlurmStep.cancelArgv(jobID: nil, jobName: "aw-a-b-1-1", terminateOnly: false) == ["scancel", "--quiet", "--name=aw-a-b-1-1"])
    }

    @Test func squeueOutputKeepsOnlyThisRootsJobs() {
        let out = """
            12|aw-course-p2-7-3|agent-watcher 64769:131 tag/course/p2/7/3
            13|aw-course-p2-8-1|agent-watcher 64769:999 tag/course/p2/8/1
            14|someone-elses|(null)
            """
        let jobs = SlurmStep.jobs(ofRoot: "64769:131", squeueOutput: out)
        #expect(jobs == [SlurmStep.QueuedJob(id: "12", name: "aw-course-p2-7-3", comment: "agent-watcher 64769:131 tag/course/p2/7/3")])
        #expect(SlurmStep.token(inComment: jobs[0].comment) == "tag/course/p2/7/3")
    }

    @Test func aPreviousLifesJobsAreKeptWhenAdoptedAndCancelledOtherwise() {
        let out = "12|aw-r-p-1-1|agent-watcher 1:2 t/r/p/1/1\n13|aw-r-p-2-1|agent-watcher 1:2 t/r/p/2/1\n14|aw-r-p-3-1|agent-watcher 9:9 t/r/p/3/1"
        let jobs = SlurmStep.previousLife(ofRoot: "1:2", squeueOutput: out, adopted: ["aw-r-p-1-1"])
        #expect(jobs.kept.map(\.id) == ["12"])
        #expect(jobs.cancel.map(\.id) == ["13"], "another root's job is neither kept nor cancelled")
    }

    @Test func theReconciliationScanIsSetOrOnForANetworkFilesystem() {
        #expect(ReconcileSchedule.interval(configured: [], networkFilesystem: nil) == nil)
        #expect(ReconcileSchedule.interval(configured: [], networkFilesystem: "NFS") == ReconcileSchedule.networkSeconds)
        #expect(ReconcileSchedule.interval(configured: [30, 5], networkFilesystem: nil) == 5, "the smallest a run sets")
        #expect(ReconcileSchedule.interval(configured: [0], networkFilesystem: "NFS") == nil, "0: never, even on NFS")
    }

    @Test func slurmVerdictsOfPreemptionAndNodeFailureAreTransient() throws {
        let spec = try PipelineSpec.decode(Array(#"""
            {"run": "r", "items": {"file": "i.json"}, "agent": {"argv": ["a"], "runner": "slurm", "slurm": {"partition": "p", "cpus": 2}},
             "phases": [{"id": "1", "output": {"file": "o.json", "strategy": "object"}},
                        {"id": "2", "output": {"file": "o2.json", "strategy": "object"}, "agent": {"runner": "local"}}]}
            """#.utf8)).get()
        let slurm = try #require(spec.agent(for: spec.phases[0]))
        #expect(slurm.runner == .slurm)
        #expect(slurm.slurm == SlurmSettings(partition: "p", cpus: 2))
        let t = slurm.transient
        #expect(t.match(exitCode: 1, logTail: "slurmstepd: error: *** STEP 5.0 ON vm CANCELLED AT 2026-12-03T10:00:00 DUE TO PREEMPTION ***") != nil)
        #expect(t.match(exitCode: 1, logTail: "srun: error: Node failure on vm; job NODE_FAIL") != nil)
        #expect(t.match(exitCode: 1, logTail: "srun: error: task 0: Exited with exit code 1") == nil)
        let local = try #require(spec.agent(for: spec.phases[1]))
        #expect(local.runner == .local, "a phase's runner overrides the top level's")
        #expect(local.transient.match(exitCode: 1, logTail: "DUE TO PREEMPTION") == nil)
    }

    @Test(arguments: [
        (#""agent": {"argv": ["a"], "runner": "slurm", "slurm": {"cpu": 2}}"#, "agent.slurm.cpu: unknown key; did you mean cpus?"),
        (#""agent": {"argv": ["a"], "runner": "slurm", "slurm": {"cpus": 0}}"#, "agent.slurm.cpus: expected a whole number ≥ 1, got 0"),
        (#""agent": {"argv": ["a"], "runner": "slurm", "slurm": {"extra": ["gpu"]}}"#,
         "agent.slurm.extra[0]: expected an srun option (starting with -), got \"gpu\""),
        (#""agent": {"argv": ["a"], "slurm": {"cpus": 1}}"#, "agent.slurm: slurm settings need \"runner\": \"slurm\" in the same agent block"),
        (#""agent": {"argv": ["a"], "runner": "pbs"}"#, "agent.runner: expected one of local, slurm"),
        (#""agent": {"argv": ["a"]}, "reconcileSeconds": -1"#, "reconcileSeconds: expected a number ≥ 0 (0: never), got -1.0"),
    ])
    func slurmSettingsAreChecked(members: String, expected: String) {
        let text = #"{"run": "r", "items": {"file": "i.json"}, "# + members
            + #", "phases": [{"id": "1", "output": {"file": "o.json", "strategy": "object"}}]}"#
        guard case .failure(let e) = PipelineSpec.decode(Array(text.utf8)) else { Issue.record("accepted: \(members)"); return }
        let summaries = e.problems.map(\.summary)
        #expect(summaries.contains { $0.hasPrefix(expected) }, "\(summaries)")
    }
}
