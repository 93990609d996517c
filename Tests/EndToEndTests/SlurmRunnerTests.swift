import Foundation
import Glibc
import WatcherSystem
import XCTest

/// Agents as Slurm job steps on a real one-node cluster (`.ci/slurm-cluster.sh up`; `.ci/run`
/// brings it up). Skipped, with the reason printed, when `sinfo` does not answer.
final class SlurmRunnerTests: EndToEndTestCase {
    func requireSlurm() throws {
        let answer: (status: ExitStatus, output: String)
        do { answer = try ShortCommand.run(["sinfo", "--noheader", "--format=%t"]) } catch {
            throw XCTSkip("Slurm test skipped: sinfo cannot be run (\(error)); bring a cluster up with `sudo .ci/slurm-cluster.sh up`")
        }
        // Any state of a node that takes jobs counts (idle, mix, alloc, plnd, comp: a previous test's
        // jobs may still be ending); only no node, or nodes down, drained or failing, skip.
        let unusable = ["down", "drain", "drng", "fail", "unk", "maint", "boot", "futr", "npc", "inval"]
        let usable = answer.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .contains { state in !state.isEmpty && !unusable.contains { state.hasPrefix($0) } }
        guard answer.status == .exited(0), usable else {
            throw XCTSkip("Slurm test skipped: sinfo answered \(answer.status): \(answer.output); bring a cluster up with `sudo .ci/slurm-cluster.sh up`")
        }
    }

    /// p1/1's first attempt outlives its timeout (cancelled through Slurm: the task gets SIGTERM);
    /// p1/2's first attempt fails. Phase 2's agents wait for a go file; the daemon is SIGKILLed
    /// while their jobs run and restarted: the old jobs are cancelled, never run twice at once,
    /// and the merged files equal those of the same pipeline run locally.
    static let agentBody = #"""
    echo "$$" > "pids/$phase-$batch-$attempt"
    if [ "$phase" = p1 ] && [ "$batch" = 1 ] && [ "$attempt" = 1 ]; then
      trap 'echo TERM > "marks/term-$phase-$batch-$attempt"; exit 143' TERM
      sleep 60 & wait
    fi
    if [ "$phase" = p1 ] && [ "$batch" = 2 ] && [ "$attempt" = 1 ]; then echo "failing once" >&2; exit 3; fi
    if [ "$phase" = p2 ]; then wait_for "go-$batch" || exit 1; fi
    object_batch $start $end | publish "$out"
    """#

    func spec(run: String, runner: String) -> [String: Any] {
        var agent: [String: Any] = ["argv": Fixtures.agentArgv, "prompt": "file", "runner": runner]
        if runner == "slurm" { agent["slurm"] = ["time": "00:10:00", "cpus": 1] }
        return Fixtures.spec(run: run, batchSize: 2, phases: [
            Fixtures.objectPhase("p1", file: "out/p1.json"),
            Fixtures.objectPhase("p2", file: "out/p2.json", extra: ["input": "p1", "timeoutSeconds": 120]),
        ], overrides: ["maxAttempts": 3, "timeoutSeconds": 5, "killGraceSeconds": 3, "agent": agent])
    }

    func install(_ sandbox: Sandbox, runner: String) throws -> String {
        try sandbox.write("pids/.keep", "")
        try sandbox.write("marks/.keep", "")
        return try Fixtures.install(in: sandbox, spec: spec(run: "sl", runner: runner), itemCount: 4, agentBody: Self.agentBody)
    }

    func testAgentsRunAsSlurmJobStepsThroughTimeoutFailureAndADaemonKill() throws {
        try requireSlurm()
        let sandbox = try makeSandbox()
        let specPath = try install(sandbox, runner: "slurm")
        let log = sandbox.eventLog
        var daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])

        // Each attempt is a job step named after it, its job id in the `running` record.
        let running = try waitForEvent(log: log, deadline: .seconds(60), daemon: daemon, "p1/2 running") {
            $0.isTransition(phase: "p1", batch: 2, to: "running")
        }
        XCTAssertNotNil(running["job_id"]?.string, running.line)

        // The timeout goes through Slurm: the task got SIGTERM (its trap wrote the mark).
        let timedOut = try waitForEvent(log: log, deadline: .seconds(60), daemon: daemon, "p1/1 attempt 1 timed out") {
            $0.event == "batch.transition" && $0.phase == "p1" && $0.batch == 1 && $0.attempt == 1 && $0.reason == "timeout"
        }
        XCTAssertEqual(timedOut.to.map { ["retry_wait", "failed"].contains($0) }, true, timedOut.line)
        try waitForFile(sandbox.path("marks/term-p1-1-1"), deadline: .seconds(30))
        try waitForEvent(log: log, deadline: .seconds(60), daemon: daemon, "p1/2 failed once") {
            $0.event == "batch.transition" && $0.phase == "p1" && $0.batch == 2 && $0.attempt == 1 && $0.to == "retry_wait"
        }

        // Phase 2's jobs run (waiting for go files): SIGKILL the daemon under them, restart.
        var oldJobs: [String] = []
        for b in 1...2 {
            let r = try waitForEvent(log: log, deadline: .seconds(90), daemon: daemon, "p2/\(b) running") {
                $0.isTransition(phase: "p2", batch: b, to: "running")
            }
            oldJobs.append(try XCTUnwrap(r["job_id"]?.string, r.line))
        }
        for b in 1...2 { try waitForFile(sandbox.path("pids/p2-\(b)-1"), deadline: .seconds(30)) }
        let oldTasks = try (1...2).map { b in
            try XCTUnwrap(pid_t(sandbox.read("pids/p2-\(b)-1").trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        daemon = try killAndRestart(daemon, sandbox, specPath)
        let records = try EventLog.read(log)
        for job in oldJobs {
            XCTAssertTrue(records.contains { $0.event == "job.cancelled" && $0["job_id"]?.string == job },
                          "job \(job) of the killed daemon is cancelled at the restart")
        }
        // The old tasks end before the new attempts' tasks do anything that counts.
        for pid in oldTasks { try waitForProcessGone(pid) }
        for b in 1...2 { try sandbox.write("go-\(b)", "") }
        try waitForEvent(log: log, deadline: .seconds(120), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: "sl") }
        XCTAssertEqual(try daemon.stop(within: 30), .exited(0), daemon.stderr)

        let all = try EventLog.read(log)
        let states = finalStates(all)
        for key in ["p1/1", "p1/2", "p2/1", "p2/2"] { XCTAssertEqual(states[key], "merged", key) }
        // Never two live attempts of one batch: each `running` is followed by its end before the next.
        for key in ["p2/1", "p2/2"] {
            let parts = key.split(separator: "/")
            let runs = all.filter { $0.isTransition(phase: String(parts[0]), batch: Int(parts[1])!, to: "running") }
            XCTAssertEqual(Set(runs.compactMap { $0["job_id"]?.string }).count, runs.count, "\(key): one job per attempt")
        }
        let show = try sandbox.run(["show", "sl", "p2", "1", "--root", sandbox.root])
        XCTAssertTrue(show.stdout.contains("slurm job "), show.stdout)

        // The same pipeline run locally merges the same bytes.
        let local = try makeSandbox("slurmlocal")
        let localSpec = try install(local, runner: "local")
        for b in 1...2 { try local.write("go-\(b)", "") }
        let localDaemon = try local.start(["run", "--pipeline", localSpec, "--root", local.root])
        try waitForEvent(log: local.eventLog, deadline: .seconds(120), daemon: localDaemon, "local run.completed") {
            $0.isEvent("run.completed", run: "sl")
        }
        XCTAssertEqual(try localDaemon.stop(), .exited(0), localDaemon.stderr)
        for file in ["out/p1.json", "out/p2.json"] {
            XCTAssertEqual(try sandbox.read(file), try local.read(file), file)
        }
    }

    /// With `agentsOnRestart: adopt` the `srun`s of a killed daemon are kept with their jobs:
    /// nothing is cancelled, no second job starts, and their outputs are merged.
    func testSlurmJobsAreAdoptedAcrossADaemonKill() throws {
        try requireSlurm()
        let sandbox = try makeSandbox()
        var s = Fixtures.spec(run: "ad", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                              overrides: ["agentsOnRestart": "adopt", "timeoutSeconds": 120,
                                          "agent": ["argv": Fixtures.agentArgv, "prompt": "file", "runner": "slurm"]])
        s["maxAttempts"] = 1
        let specPath = try Fixtures.install(in: sandbox, spec: s, itemCount: 4, agentBody: """
        wait_for "go-$batch" || exit 1
        object_batch $start $end | publish "$out"
        """)
        let log = sandbox.eventLog
        var daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        var jobs: [String] = []
        for b in 1...2 {
            let r = try waitForEvent(log: log, deadline: .seconds(60), daemon: daemon, "p1/\(b) running") {
                $0.isTransition(phase: "p1", batch: b, to: "running")
            }
            jobs.append(try XCTUnwrap(r["job_id"]?.string, r.line))
        }
        daemon = try killAndRestart(daemon, sandbox, specPath)
        for b in 1...2 { try sandbox.write("go-\(b)", "") }
        try waitForEvent(log: log, deadline: .seconds(60), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: "ad") }
        XCTAssertEqual(try daemon.stop(within: 30), .exited(0), daemon.stderr)
        let all = try EventLog.read(log)
        XCTAssertFalse(all.contains { $0.event == "job.cancelled" }, "adopted jobs are not cancelled")
        for b in 1...2 {
            XCTAssertEqual(all.filter { $0.isTransition(phase: "p1", batch: b, to: "running") }.compactMap { $0["job_id"]?.string },
                           [jobs[b - 1]], "no second job for p1/\(b)")
        }
        for b in 1...2 { XCTAssertEqual(finalStates(all)["p1/\(b)"], "merged") }
    }

    /// A job Slurm refuses (no such partition) is the operator's to fix: the run pauses with
    /// Slurm's words, and no attempt is used.
    func testAJobSlurmRefusesPausesTheRunWithSlurmsReason() throws {
        try requireSlurm()
        let sandbox = try makeSandbox()
        let s = Fixtures.spec(run: "rf", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                              overrides: ["agent": ["argv": Fixtures.agentArgv, "prompt": "file", "runner": "slurm",
                                                    "slurm": ["partition": "nosuch"]]])
        let specPath = try Fixtures.install(in: sandbox, spec: s, itemCount: 2, agentBody: "object_batch $start $end | publish \"$out\"")
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        let paused = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(60), daemon: daemon, "run.paused") {
            $0.event == "run.paused" && $0.run == "rf"
        }
        XCTAssertEqual(paused.reason, "setup_error", paused.line)
        XCTAssertTrue(paused["message"]?.string?.contains("Invalid partition") ?? false, paused.line)
        XCTAssertEqual(try daemon.stop(within: 30), .exited(0), daemon.stderr)
        let failed = try EventLog.read(sandbox.eventLog).first { $0.event == "batch.transition" && $0.from == "spawning" }
        XCTAssertEqual(failed?["class"]?.string, "spawn_failed", failed?.line ?? "no transition from spawning")
        XCTAssertEqual(failed?["attempt_used"], .bool(false), failed?.line ?? "")
    }

    /// SIGKILLs the daemon and starts another on the same root; returns once it is watching.
    func killAndRestart(_ daemon: ChildProcess, _ sandbox: Sandbox, _ specPath: String) throws -> ChildProcess {
        try daemon.signal(SIGKILL)
        XCTAssertEqual(try daemon.finish(within: 30), .signaled(SIGKILL))
        let next = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        let pid = next.pid
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(60), daemon: next, "watcher.ready of the restart") {
            $0.event == "watcher.ready" && $0.pid == pid
        }
        return next
    }

    /// Waits on a pidfd (never by sleeping) until `pid` has ended.
    func waitForProcessGone(_ pid: pid_t, seconds: Double = 30) throws {
        let deadline = Deadline.seconds(seconds)
        while ProcessControl.isAlive(pid), !deadline.hasPassed {
            guard let fd = try? ProcessControl.openPIDFD(pid) else { continue } // raced with its exit
            _ = try Poller.wait([fd.rawValue], timeoutMilliseconds: deadline.pollTimeout)
        }
        XCTAssertFalse(ProcessControl.isAlive(pid), "task \(pid) of a cancelled job has ended")
    }
}
