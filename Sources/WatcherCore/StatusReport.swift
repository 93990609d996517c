/// Progress per run and phase, from the event log alone.
public struct StatusReport: Equatable, Sendable {
    public struct PhaseRow: Equatable, Sendable {
        public var phase: String
        public var counts: [BatchState: Int]
        public var total: Int
        /// Batches an agent was working on when the daemon stopped or died (no daemon runs now);
        /// they are not counted as running.
        public var interrupted: Int = 0
        /// Mean seconds from an attempt's spawn to its merge in this phase.
        public var meanBatchSeconds: Double? = nil
        /// From the phase's first spawn to its last merge (or to now while it goes on).
        public var elapsedSeconds: Double? = nil
        /// Seconds left for this phase at the concurrency in force; nil while paused, stopped or unknown.
        public var remainingSeconds: Double? = nil
        /// The lowest batch an agent works on, else the lowest not yet ended.
        public var currentBatch: Int? = nil
        public var failedBatches: [FailedBatch] = []
        public func count(_ s: BatchState) -> Int { counts[s] ?? 0 }
        public var running: Int { count(.spawning) + count(.running) + count(.validating) + count(.merging) }
        /// Merged or skipped by the operator: done.
        public var done: Int { count(.merged) + count(.skipped) }
        /// Not yet ended: pending, retrying, running or interrupted.
        public var unfinished: Int { total - done - count(.failed) - count(.blocked) - count(.cancelled) }
    }

    /// A failed or blocked batch, with what each attempt ended with (from the log).
    public struct FailedBatch: Equatable, Sendable {
        public var batch: Int
        public var state: BatchState
        public var attempts: [AttemptOutcome]
    }

    public struct AttemptOutcome: Equatable, Sendable {
        public var attempt: Int
        public var reason: String?
        public var failureClass: String?
        public var errors: Int?
        public var message: String?
    }

    public struct RunRow: Equatable, Sendable {
        public var run: String
        public var phases: [PhaseRow]
        public var completed: Bool
        public var paused: Bool
        /// Why it is paused: `operator`, `circuit_open`, `validator_failed`, `setup_error`, with the message.
        public var pauseReason: String?
        public var pauseMessage: String?
        public var concurrency: Int
        /// Mean seconds from an attempt's spawn to its merge, over merged batches.
        public var meanBatchSeconds: Double?
        public var remainingBatches: Int
        public var etaSeconds: Double?
        public var retries: Int
        /// From the run's first spawn to its last merge (or now while it goes on).
        public var elapsedSeconds: Double? = nil
        /// The wall-clock time (seconds since the epoch) the run should end, when known.
        public var estimatedCompletion: Double? = nil
        public var done: Int { phases.reduce(0) { $0 + $1.done } }
        public var total: Int { phases.reduce(0) { $0 + $1.total } }
        public var failedOrBlocked: Int { phases.reduce(0) { $0 + $1.count(.failed) + $1.count(.blocked) } }
    }

    public var runs: [RunRow]

    public init(runs: [RunRow], daemonRunning: Bool) {
        self.runs = runs
        self.daemonRunning = daemonRunning
    }
    /// Whether a daemon held the root's lock when the report was made.
    public var daemonRunning: Bool = true

    /// The watcher's state as the log says, with plans taken from `run.started` records.
    public static func replay(_ records: [EventRecord]) -> WatcherState {
        var fold = StatusFold()
        for r in records { fold.add(r) }
        var state = fold.state
        state.endReplay()
        return state
    }

    /// `daemonRunning: false` shows active batches as `interrupted` and gives no ETA; `now`
    /// (seconds since the epoch) measures elapsed times of what still goes on.
    public static func build(_ records: [EventRecord], daemonRunning: Bool = true, now: Double? = nil) -> StatusReport {
        var fold = StatusFold()
        for r in records { fold.add(r) }
        return fold.report(daemonRunning: daemonRunning, now: now)
    }

    /// The same, from `state` = `replay(records)` made once by a caller that needs it too (the
    /// dashboard): only the times are folded here, the batches are `state`'s.
    public static func build(_ records: [EventRecord], replayed state: WatcherState, daemonRunning: Bool = true,
                             now: Double? = nil) -> StatusReport {
        var fold = StatusFold(foldingState: false)
        for r in records { fold.add(r) }
        return fold.report(of: state, daemonRunning: daemonRunning, now: now)
    }
}
