import Glibc
import WatcherCore
import WatcherSystem

/// The watcher: one thread sleeping in `ppoll()` on the inotify descriptor, a signalfd and a
/// wake pipe, until the next deadline of the core. It feeds facts to `WatcherState` and
/// carries out the effects it returns, logging each one durably first.
public final class Daemon {
    public struct Options {
        public var root: String
        public var pipelines: [String]
        /// Stop once every run is complete (the demo); otherwise run until SIGTERM/SIGINT.
        public var exitWhenComplete = false
        public var agentsOnStop: AgentsOnStop = .kill
        /// Time a recipient has to move a delivered agent message to `cur/`; nil: the
        /// `AGENT_WATCHER_ACK_TIMEOUT` environment variable, else 300 s.
        public var ackTimeoutSeconds: Double?
        /// Per run, the part it may start (`run --batches`, `--phases`); the rest stays pending.
        public var scope: [String: RunScope] = [:]
        /// The rule sets the pipelines' phases may name in `rules`; a spec naming any other is refused.
        public var rules: RuleRegistry

        public init(root: String, pipelines: [String], rules: RuleRegistry) {
            self.root = root
            self.pipelines = pipelines
            self.rules = rules
        }
    }

    public enum AgentsOnStop: String { case kill, leave }

    public enum Outcome: Equatable { case completed, stopped }

    let options: Options
    public let layout: Layout
    var state = WatcherState()
    /// The watcher's state as it is now (for a reader in the daemon's own loop: `observer`).
    public var currentState: WatcherState { state }
    var runs: [String: RunContext] = [:]
    var lock: FileLock?
    /// The root, opened once: every path under it is resolved beneath this descriptor.
    var root: RootDirectory!
    /// Symbolic links found where the daemon's folders should be, each logged once.
    var refusedFolders: Set<String> = []
    /// The temp tags previous lives logged (`watcher.started` `temp_tag`): their temps are ours.
    var tempTags: Set<String> = []
    /// Per main file path, its last `main.written` record.
    var mainFiles: [String: MainFileRecord] = [:]
    /// Per batch, what its last validation read and checked (Daemon+Validation.swift), for the
    /// merge; empty after a restart, when the merge reads and checks the file itself.
    var validatedBatches: [BatchID: Merger.Validated] = [:]
    /// Per main file path, the daemon's index of it (Merger.swift), trusted while the file's
    /// identity matches; empty at start, built by one full read at the first merge.
    var mainIndexes: [String: MainFileIndex] = [:]
    /// Processes that carry this root's AGENT_WATCHER_ROOT but no token of ours: reported once.
    var strangersLeftAlone: [pid_t] = []
    /// When folders that cannot be watched are scanned next (nil: every folder is watched).
    var nextUnwatchedScan: Instant?
    /// Attempts run by the `slurm` runner, by their `srun`'s pid (Daemon+Slurm.swift).
    var slurmJobs: [pid_t: SlurmJob] = [:]
    /// Watches the logs of Slurm attempts whose job id `srun` has not printed yet.
    var slurmLogWatch: Inotify?
    /// The next reconciliation scan of the mailbox (`reconcileSeconds`), when one is set.
    var nextReconcile: Instant?
    var reconcileSeconds: Double?
    /// Names that are not UTF-8 already refused (folder + escaped name).
    var refusedRawNames: Set<String> = []
    /// Symbolic links found at start where the daemon's folders go, logged once the log is open.
    var symlinkedAtStart: [(String, String)] = []
    /// Children this process had before the daemon started (the dashboard of `run --dashboard`
    /// or `demo --dashboard`): not orphans of agents, never stopped by the daemon.
    var childrenBeforeStart: Set<pid_t> = []
    /// Links planted where the daemon's own folders go, moved aside (link, where to), to log.
    var movedAsideAtStart: [(String, String)] = []
    var log: EventLogWriter!
    var watcher: DirectoryWatcher!
    /// Watches `logs/` and the event log itself, so that their removal or replacement is noticed at once.
    var logWatch: Inotify!
    var signals: SignalFD!
    let wake: WakePipe
    var children: [pid_t: Child] = [:]
    /// Every agent's process group until it is empty: the leader may exit before the rest.
    var agentGroups: [pid_t: AgentGroup] = [:]
    /// Control messages handled in the current round, to move to `control/cur/` once the
    /// round's log records are durable.
    var controlFilesToFile: [(path: String, source: String?)] = []
    /// Control message files (`name:inode:mtime`) the log says were answered: one left in
    /// `new/` by a crash is not applied twice.
    var answeredControlFiles: Set<String> = []
    /// Agents kept from the daemon's previous life, by their pidfd.
    var adoptedAgents: [Int32: AdoptedAgent] = [:]
    var inputs: [Input] = []
    /// A shutdown under way: its agents' one lifetime (SIGTERM, grace, SIGKILL, reaping given up).
    var stopping: (since: Instant, life: ChildLifetime)?
    var completedRuns: Set<String> = []
    /// What the log fixed of each run's plan (and its settings as last logged).
    var loggedPlans: [String: PlanFacts] = [:]
    /// The log's last life ended with `watcher.stopped`: agents it left were left on purpose.
    var previousLifeStoppedCleanly = false
    /// Agent messages: received, delivered, waiting for acknowledgement (Daemon+Messages.swift).
    var messages = MessageLedger()
    /// Responder turns (Daemon+Responders.swift), the facts for them not handled yet, and the
    /// run whose spec declares each responder (its folder holds the instructions).
    var turns = TurnBook()
    var turnInputs: [TurnInput] = []
    var responderHomes: [String: RunContext] = [:]
    /// What happens to running agents when the daemon stops (a `stop` message can change it).
    var agentsOnStop: AgentsOnStop
    /// Called with every durable record (the demo's printer).
    public var observer: ((EventRecord) -> Void)?
    /// Called with each record of the log as the start-up replay reads it (before `observer`
    /// sees the new ones): a reader that follows the run folds the log in the same pass.
    public var replayObserver: ((EventRecord) -> Void)?
    /// Called once the daemon is watching (after recovery), before it waits for the first event.
    public var onWatching: (() -> Void)?

    enum Child {
        /// `logStart`: the size of the agent's log when it started (an attempt re-spawned after
        /// a transient failure appends to the same log): its tail from there is what it said.
        /// `stdoutStart`: the same for a JSON agent's standard output file.
        case agent(BatchID, attempt: Int, logStart: Int64, stdoutStart: Int64 = 0)
        case validator(ValidationJob)
        /// A responder's attempt at answering `message`.
        case responder(message: String, attempt: Int, stdoutStart: Int64, logStart: Int64)
    }

    public init(options: Options) throws {
        self.options = options
        self.layout = Layout(root: options.root)
        self.agentsOnStop = options.agentsOnStop
        self.wake = try WakePipe()
        state.scope = options.scope
    }

    /// Every run is complete, or finished within its scope.
    var everyRunDone: Bool { runs.keys.allSatisfy { completedRuns.contains($0) || state.scopeFinished(run: $0) } }

    static func now() -> Instant { Instant(nanoseconds: Clock.monotonicNanoseconds()) }

    /// Runs until stopped (or, with `exitWhenComplete`, until every run is complete).
    public func run() throws -> Outcome {
        defer { lock?.release() }
        do {
            try start()
            try log.append(Event(event: EventName.watcherReady, details: [.init("pid", .int(Int(getpid())))]))
        } catch {
            // A start that fails says so in the log when the log is open (`run --daemon` waits
            // for watcher.ready or this), and the caller prints it and exits non-zero.
            if let log {
                do { try log.append(Event(event: EventName.watcherFailed, reason: "\(error)",
                                          details: [.init("pid", .int(Int(getpid())))])) } catch {
                    Console.error("agent-watcher: cannot log watcher.failed: \(error)")
                }
            }
            throw error // agents it started or adopted are left to the next start, which adopts them
        }
        reconcileSeconds = reconcileInterval()
        nextReconcile = reconcileSeconds.map { Daemon.now().adding(seconds: $0) }
        onWatching?()
        do {
            try loop()
        } catch {
            // Do not pretend: say what happened if the log still takes it, stop the agents
            // (the next start recovers from the log), and fail.
            do { try log.append(Event(event: "watcher.failed", reason: "\(error)")) } catch {
                Console.error("agent-watcher: cannot log watcher.failed: \(error)")
            }
            killAllAgentGroups(signal: SIGKILL)
            throw error
        }
        try log.append(Event(event: EventName.watcherStopped, details: [.init("pid", .int(Int(getpid())))]))
        if FileSystem.exists(layout.pidFile) { try FileSystem.unlink(layout.pidFile) }
        return options.exitWhenComplete && everyRunDone ? .completed : .stopped
    }

    func loop() throws {
        loop: while true {
            if var stop = stopping {
                try reapChildren() // zombies that are ours (we are their subreaper) are reaped before we go
                sweepAgentGroups()
                if children.isEmpty && agentGroups.isEmpty && adoptedAgents.isEmpty
                    && (agentsOnStop == .leave || signalOrphans(0) == 0) { // orphans it was given, too
                    try reapChildren() // members that died during the sweep: zombies it did not count
                    try settleStoppedAgents()
                    break
                }
                for action in stop.life.tick(now: Daemon.now()) {
                    switch action {
                    case .terminate: break
                    case .kill: killAllAgentGroups(signal: SIGKILL)
                    case .abandon:
                        Console.error("agent-watcher: \(agentGroups.count) agent process group(s) did not end after SIGKILL; stopping anyway")
                        try settleStoppedAgents()
                        break loop
                    }
                }
                stopping = stop
            } else if options.exitWhenComplete, !runs.isEmpty, everyRunDone {
                beginStop(reason: "completed")
                continue
            }
            let fds = [watcher.fileDescriptor, signals.fileDescriptor, wake.readFD, logWatch.fileDescriptor]
                + adoptedAgents.keys + (slurmLogWatch.map { [$0.fileDescriptor] } ?? [])
            var ready = try Poller.wait(fds, timeoutNanoseconds: log.hasUnsynced ? 0 : pollTimeout())
            if ready.isEmpty, log.hasUnsynced {
                // Records that shared a later sync are made durable before the loop sleeps (never
                // before it reads what is there): an idle daemon leaves nothing unsynced.
                try log.syncPending()
                ready = try Poller.wait(fds, timeoutNanoseconds: pollTimeout())
            }
            if ready.contains(logWatch.fileDescriptor) {
                _ = try logWatch.readEvents()
                try log.checkStillInPlace() // logs/ or the log removed, moved or replaced: stop now
            }
            for fd in ready where adoptedAgents[fd] != nil { adoptedAgentExited(fd) }
            if ready.contains(signals.fileDescriptor) { try handleSignals() }
            if ready.contains(watcher.fileDescriptor) { try handleFileEvents(try watcher.readEvents()) }
            if ready.contains(wake.readFD) { wake.drain() }
            if let w = slurmLogWatch, ready.contains(w.fileDescriptor) { try slurmLogsChanged() }
            if stopping == nil, let d = nextReconcile, d <= Daemon.now(), let every = reconcileSeconds {
                try reconcile()
                nextReconcile = Daemon.now().adding(seconds: every)
            }
            if stopping == nil, let d = state.nextDeadline(), d <= Daemon.now() { inputs.append(.tick) }
            if stopping == nil { try fireMessageDeadlines() }
            if stopping == nil, let d = turns.nextDeadline(), d <= Daemon.now() { turnInputs.append(.tick) }
            if stopping == nil, let d = nextUnwatchedScan, d <= Daemon.now() {
                // The timer scan of folders a kernel limit keeps unwatched (also re-tries the watches).
                let found = try watcher.rescan()
                nextUnwatchedScan = watcher.unwatchable.isEmpty ? nil : Daemon.now().adding(seconds: Daemon.unwatchedScanSeconds)
                try handleFileEvents(found)
            }
            sweepAgentGroups()
            try drainInputs()
        }
    }

    /// Nanoseconds until the next deadline (-1: none), for the loop's `ppoll`.
    func pollTimeout() -> Int64 {
        let now = Daemon.now()
        var deadlines: [Instant] = []
        if stopping == nil, let d = state.nextDeadline() { deadlines.append(d) }
        if stopping == nil, let d = messages.nextDeadline() { deadlines.append(d) }
        if stopping == nil, let d = turns.nextDeadline() { deadlines.append(d) }
        if let d = stopping?.life.nextDeadline { deadlines.append(d) }
        deadlines += agentGroups.values.compactMap { $0.life?.nextDeadline }
        if let d = nextUnwatchedScan { deadlines.append(d) }
        if stopping == nil, let d = nextReconcile { deadlines.append(d) }
        deadlines += children.values.compactMap { if case .validator(let j) = $0 { return j.life.nextDeadline }; return nil }
        guard let next = deadlines.min() else { return -1 }
        return now.nanoseconds(until: next)
    }

    /// Feeds queued facts to the core and carries out what it returns, until nothing is left.
    ///
    /// Group commit: every input queued so far is handled first, then all their log records
    /// are written and made durable with one `fdatasync`, then their effects are carried out
    /// in order (which may queue more inputs for the next round).
    func drainInputs() throws {
        while !inputs.isEmpty || !turnInputs.isEmpty, stopping == nil {
            try drainTurnInputs()
            let round = inputs
            inputs.removeAll(keepingCapacity: true)
            let now = Daemon.now()
            var effects: [Effect] = []
            for input in round { effects += state.handle(input, now: now) }
            try execute(effects)
            for e in effects {
                if case .log(let r) = e, r.event == EventName.controlApplied || r.event == EventName.controlRejected,
                   let source = r.string("source") { answeredControlFiles.insert(source) }
            }
            // A message answered in a later round (a rebuild answers after its work) waits for it.
            var unanswered: [(path: String, source: String?)] = []
            for file in controlFilesToFile where FileSystem.exists(file.path) {
                if let source = file.source, !answeredControlFiles.contains(source) { unanswered.append(file); continue }
                _ = try moveUnique(file.path, toFolder: layout.control + "/cur", name: basename(file.path))
            }
            controlFilesToFile = unanswered
        }
        try checkValidatorDeadlines()
    }

    func handleSignals() throws {
        for sig in try signals.read() {
            switch sig {
            case SIGCHLD: try reapChildren()
            case SIGTERM, SIGINT: beginStop(reason: sig == SIGTERM ? "SIGTERM" : "SIGINT")
            case SIGHUP: reloadSpecs()
            default: break
            }
        }
    }

    func beginStop(reason: String) {
        guard stopping == nil else { return }
        let agents = children.values.filter { if case .agent = $0 { return true }; return false }.count
        do {
            try log.append(Event(event: EventName.watcherStopping, reason: reason, details: [
                .init("agents", .int(agents)), .init("agents_on_stop", .string(agentsOnStop.rawValue)),
            ]))
        } catch {
            Console.error("agent-watcher: cannot log watcher.stopping: \(error)")
        }
        let now = Daemon.now()
        var life = ChildLifetime(grace: runs.values.map(\.spec.killGraceSeconds).max() ?? ChildLifetime.defaultGraceSeconds)
        _ = life.stop(reason: reason, now: now) // SIGTERM now (below, unless the agents are left), SIGKILL after the grace
        stopping = (now, life)
        if agentsOnStop == .kill {
            killAllAgentGroups(signal: SIGTERM)
        } else {
            children = children.filter { if case .validator = $0.value { return true }; return false } // agents and responders stay
            agentGroups = [:]
            adoptedAgents = [:]
        }
    }

    func killAllAgentGroups(signal: Int32) {
        signalOrphans(signal)
        for pid in Set(children.keys).union(agentGroups.keys) {
            if cancelSlurmJob(pid, terminateOnly: signal == SIGTERM) { continue }
            signalDescendantsOutsideTheGroup(pid, signal)
            do { _ = try ProcessControl.signalGroup(pid, signal) } catch {
                Console.error("agent-watcher: cannot signal process group \(pid): \(error)")
            }
        }
    }

    /// What the agent wrote to its log since it started (the last 64 KiB), to tell a failure of
    /// its CLI's service (rate limit, overload) from the batch's.
    func agentLogTail(_ id: BatchID, attempt: Int, from offset: Int64) -> String {
        let path = layout.agentLog(id, attempt: attempt)
        do { return String(decoding: try FileSystem.readTail(path, from: offset, limit: 64 << 10), as: UTF8.self) } catch {
            Console.error("agent-watcher: \(path): cannot read the agent's log: \(error)")
            return ""
        }
    }

    /// After a clean stop that ended the agents: their batches go back to `pending` without
    /// using an attempt (those whose output arrived are checked at the next start).
    func settleStoppedAgents() throws {
        guard agentsOnStop == .kill else { return }
        let effects = state.stopAgents { [layout] id in FileSystem.exists(layout.outputPath(id)) ? id.outputFileName : nil }
        try log.append(effects.compactMap { if case .log(let e) = $0 { return e }; return nil })
    }

    func reapChildren() throws {
        for (pid, status) in try ProcessControl.reapAny() {
            guard let child = children.removeValue(forKey: pid) else { continue } // an orphan we adopted as subreaper
            if case .validator = child {} else { leaderExited(pid) }
            if slurmJobs[pid] != nil {
                if stopping != nil { slurmJobs[pid] = nil } else if !slurmStepEnded(pid) { continue }
            }
            if stopping != nil { continue }
            switch child {
            case .agent(let id, let attempt, let logStart, let stdoutStart):
                let out = layout.outputPath(id)
                var code: Int?
                if case .exited(let c) = status { code = Int(c) }
                inputs.append(.agentExited(id, pid: pid, status: status.description, success: status == .exited(0),
                                           outputPath: FileSystem.exists(out) ? out : nil, exitCode: code,
                                           logTail: status == .exited(0) && FileSystem.exists(out) ? "" : agentLogTail(id, attempt: attempt, from: logStart),
                                           agent: agentOutcome(id, attempt: attempt, from: stdoutStart, exitCode: code)))
            case .validator(let job):
                try validatorFinished(job, status: status)
            case .responder(let message, let attempt, let stdoutStart, let logStart):
                try responderExited(message, attempt: attempt, status: status, stdoutStart: stdoutStart, logStart: logStart)
            }
        }
    }
}
