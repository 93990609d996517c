import Glibc
import WatcherCore
import WatcherSystem

/// An attempt run by the `slurm` runner: `srun`, the daemon's child, holds the job step. Its own
/// messages go to the agent's log (a file, so an `srun` kept across a restart never writes into
/// a closed pipe); the job id is read from there as soon as `srun` prints it (inotify on the log).
struct SlurmJob {
    var id: BatchID
    var attempt: Int
    var name: String
    var jobID: String?
    /// Where in the log this attempt's lines start, and the watch on it until the id is known.
    var logPath: String
    var logStart: Int64
    var watch: Int32?
    /// `spawning -> running` is logged once the job id is known (or `srun` ended without one).
    var spawnedSent = false
    /// `srun`'s start time (field 22 of `/proc/<pid>/stat`), logged with the pid in `running`.
    var startTime: UInt64?
}

extension Daemon {
    /// The `srun` argv around the agent's, for an attempt whose phase runs agents on Slurm.
    func slurmRequest(_ request: SpawnRequest, _ id: BatchID, attempt: Int, settings: SlurmSettings) -> SpawnRequest {
        var r = request
        let token = AgentToken(lifeTag: AtomicFile.tag ?? "", id: id, attempt: attempt).text
        r.argv = SlurmStep.argv(agent: request.argv, settings: settings, jobName: SlurmStep.jobName(id, attempt: attempt),
                                comment: SlurmStep.comment(rootID: AgentToken.rootID(device: root.device, inode: root.inode), token: token),
                                workingDirectory: request.workingDirectory ?? layout.root)
        return r
    }

    /// Before the spawn: the log is watched, so no line of `srun` is missed.
    func watchSlurmLog(_ id: BatchID, attempt: Int, logStart: Int64) throws -> SlurmJob {
        if slurmLogWatch == nil { slurmLogWatch = try Inotify() }
        let path = layout.agentLog(id, attempt: attempt)
        let watch = try slurmLogWatch?.addWatch(path, mask: [.modify, .dontFollow])
        return SlurmJob(id: id, attempt: attempt, name: SlurmStep.jobName(id, attempt: attempt), logPath: path,
                        logStart: logStart, watch: watch)
    }

    /// After the spawn: the job is tracked under `srun`'s pid; its id may already be in the log.
    func startedSlurmJob(_ job: SlurmJob, pid: pid_t) {
        slurmJobs[pid] = job
        lookForSlurmJobID(pid)
    }

    /// The log of some attempt grew: read the new lines of each attempt still without a job id.
    func slurmLogsChanged() throws {
        guard let w = slurmLogWatch else { return }
        let watches = Set(try w.readEvents().map(\.watch))
        for (pid, job) in slurmJobs where job.watch.map(watches.contains) == true { lookForSlurmJobID(pid) }
    }

    func lookForSlurmJobID(_ pid: pid_t) {
        guard var job = slurmJobs[pid], job.jobID == nil else { return }
        let text: String
        do { text = String(decoding: try FileSystem.readTail(job.logPath, from: job.logStart, limit: 64 << 10), as: UTF8.self) } catch {
            Console.error("agent-watcher: \(job.logPath): cannot read srun's messages: \(error)")
            return
        }
        guard let jobID = SlurmStep.jobID(inStderr: text[...]) else { return }
        job.jobID = jobID
        if let watch = job.watch { slurmLogWatch?.removeWatch(watch) }
        job.watch = nil
        if !job.spawnedSent {
            job.spawnedSent = true
            inputs.append(.spawned(job.id, attempt: job.attempt, pid: pid, startTime: job.startTime, jobID: jobID))
        }
        slurmJobs[pid] = job
    }

    /// `srun` ended: a last look for the job id, and `running` is logged before the exit if it was
    /// not yet. An `srun` that ended without a job id was refused by Slurm (no such partition or
    /// account, a request no node can meet): the operator's to fix, so the attempt is a spawn
    /// failure (the run pauses, no attempt used). Returns false then: there is no agent exit to report.
    @discardableResult
    func slurmStepEnded(_ pid: pid_t) -> Bool {
        lookForSlurmJobID(pid)
        guard let job = slurmJobs.removeValue(forKey: pid) else { return true }
        if job.jobID == nil, !job.spawnedSent {
            if let watch = job.watch { slurmLogWatch?.removeWatch(watch) }
            inputs.append(.spawnFailed(job.id, attempt: job.attempt, message: "Slurm refused the job: " + srunErrors(job), missing: true))
            return false
        }
        // The job ran elsewhere: its output is looked up directly, after opening the outbox (on
        // NFS an open revalidates the folder: close-to-open), not left to an inotify event that
        // a write from another host never makes.
        do { try FileDescriptor.open(layout.outbox(job.id.run), O_RDONLY | O_DIRECTORY | O_NOFOLLOW).close() } catch {
            Console.error("agent-watcher: \(layout.outbox(job.id.run)): \(error)")
        }
        if let watch = job.watch { slurmLogWatch?.removeWatch(watch) }
        if !job.spawnedSent { inputs.append(.spawned(job.id, attempt: job.attempt, pid: pid, startTime: job.startTime, jobID: job.jobID)) }
        return true
    }

    /// The `srun: error:` lines of the attempt's log (what Slurm said when it refused the job).
    func srunErrors(_ job: SlurmJob) -> String {
        do {
            let text = String(decoding: try FileSystem.readTail(job.logPath, from: job.logStart, limit: 16 << 10), as: UTF8.self)
            let errors = text.split(separator: "\n").filter { $0.hasPrefix("srun: error: ") }.map { $0.dropFirst(13) }
            return errors.isEmpty ? "srun ended before it printed a job id (see \(job.logPath))" : errors.joined(separator: "; ")
        } catch {
            return "srun ended before it printed a job id; its log \(job.logPath) cannot be read: \(error)"
        }
    }

    /// A signal for a Slurm attempt goes through Slurm (`scancel`), never to `srun` itself: a
    /// SIGTERM to `srun` SIGKILLs the task at once. TERM: the task gets SIGTERM; KILL: `scancel`
    /// (Slurm's SIGTERM, then SIGKILL after `KillWait`). Returns false for a local agent.
    func cancelSlurmJob(_ pid: pid_t, terminateOnly: Bool) -> Bool {
        guard let job = slurmJobs[pid] else { return false }
        let argv = SlurmStep.cancelArgv(jobID: job.jobID, jobName: job.name, terminateOnly: terminateOnly)
        do {
            let (status, output) = try ShortCommand.run(argv)
            if status != .exited(0) {
                try log.append(Event(event: "agent.signal_failed", run: job.id.run, phase: job.id.phase, batch: job.id.index,
                                     reason: "\(argv.joined(separator: " ")): \(status) \(output)",
                                     details: [.init("pid", .int(Int(pid)))] + (job.jobID.map { [.init("job_id", .string($0))] } ?? [])))
            }
        } catch {
            Console.error("agent-watcher: \(argv.joined(separator: " ")): \(error)")
        }
        return true
    }

    /// At start, after adopting: this root's Slurm jobs that no adopted `srun` holds are
    /// cancelled (an `srun` of the previous life killed by `stopAgentsOfPreviousLife` leaves
    /// its job to Slurm's own timeout otherwise). Only when some run uses the `slurm` runner.
    func cancelSlurmJobsOfPreviousLife(adopted: [BatchID: pid_t]) throws {
        let usesSlurm = runs.values.contains { ctx in ctx.spec.phases.contains { ctx.spec.agent(for: $0)?.runner == .slurm } }
        guard usesSlurm else { return }
        let rootID = AgentToken.rootID(device: root.device, inode: root.inode)
        let (status, output): (ExitStatus, String)
        do { (status, output) = try ShortCommand.run(SlurmStep.queueArgv) } catch {
            Console.error("agent-watcher: squeue: \(error); jobs of a previous life are not looked for")
            return
        }
        guard status == .exited(0) else {
            Console.error("agent-watcher: squeue failed (\(status)): \(output); jobs of a previous life are not looked for")
            return
        }
        var names: [String: (BatchID, attempt: Int, pid_t)] = [:]
        for (id, pid) in adopted {
            let attempt = state.batch(id)?.attempt ?? 0
            names[SlurmStep.jobName(id, attempt: attempt)] = (id, attempt, pid)
        }
        let jobs = SlurmStep.previousLife(ofRoot: rootID, squeueOutput: output, adopted: Set(names.keys))
        for job in jobs.kept {
            guard let (id, attempt, pid) = names[job.name] else { continue }
            // An adopted `srun`: its job is cancelled through Slurm like any, when it must be.
            slurmJobs[pid] = SlurmJob(id: id, attempt: attempt, name: job.name, jobID: job.id,
                                      logPath: layout.agentLog(id, attempt: attempt), logStart: 0, watch: nil, spawnedSent: true)
        }
        for job in jobs.cancel {
            let argv = SlurmStep.cancelArgv(jobID: job.id, jobName: job.name, terminateOnly: false)
            let (s, out) = try ShortCommand.run(argv)
            try log.append(Event(event: EventName.jobCancelled, reason: s == .exited(0) ? "previous_life" : "previous_life: \(argv.joined(separator: " ")) \(s) \(out)",
                                 details: [.init("job_id", .string(job.id)), .init("job_name", .string(job.name))]))
        }
    }

    /// The interval of the reconciliation scan (``ReconcileSchedule``); `statfs` is asked only
    /// when no run sets `reconcileSeconds`.
    func reconcileInterval() -> Double? {
        let configured = runs.values.compactMap(\.spec.reconcileSeconds)
        var network: String?
        if configured.isEmpty {
            do { network = try FileSystem.networkFilesystem(layout.mailbox) } catch {
                Console.error("agent-watcher: statfs \(layout.mailbox): \(error)")
            }
        }
        let every = ReconcileSchedule.interval(configured: configured, networkFilesystem: network)
        if let network, let every {
            Console.error("agent-watcher: the mailbox is on \(network): inotify misses writes made by other hosts; "
                + "scanning it every \(Int(every)) s (set reconcileSeconds to change)")
        }
        return every
    }

    /// The reconciliation scan: every mailbox folder listed; what was missed is handled once
    /// (a file already handled is gone from the outbox, or is the same attempt's and settled).
    func reconcile() throws {
        let found = try watcher.rescan()
        guard !found.isEmpty else { return }
        try log.append(Event(event: EventName.watchRescan, reason: "reconcile", details: [
            .init("files", .int(found.count)), .init("paths", .strings(found.prefix(20).compactMap(\.path))),
        ]))
        try handleFileEvents(found)
    }
}
