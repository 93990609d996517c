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
        var state = WatcherState()
        state.beginReplay()
        var facts: [String: (PlanFacts, concurrency: Int)] = [:]
        for r in records {
            let e = r.event
            if let run = e.run {
                if e.event == EventName.runStarted, let f = PlanFacts(runStarted: e) {
                    facts[run] = (f, e.int("concurrency") ?? 1)
                } else if e.event == EventName.runExtended {
                    facts[run]?.0.fold(e)
                }
                if e.event == EventName.runStarted || e.event == EventName.runExtended, let (f, c) = facts[run] {
                    var plan = RunPlan(run: run, phases: f.phases.map { RunPlan.Phase(id: $0.id) }, itemCount: 0,
                                       batchSize: f.batchSize, concurrency: c)
                    plan.segments = f.segments
                    _ = state.add(plan)
                }
            }
            state.apply(e)
        }
        state.endReplay()
        return state
    }

    /// `daemonRunning: false` shows active batches as `interrupted` and gives no ETA; `now`
    /// (seconds since the epoch) measures elapsed times of what still goes on.
    public static func build(_ records: [EventRecord], daemonRunning: Bool = true, now: Double? = nil) -> StatusReport {
        build(records, replayed: replay(records), daemonRunning: daemonRunning, now: now)
    }

    /// The same, from `state` = `replay(records)` made once by a caller that needs it too.
    public static func build(_ records: [EventRecord], replayed state: WatcherState, daemonRunning: Bool = true,
                             now: Double? = nil) -> StatusReport {
        var started: [BatchID: Double] = [:]
        var durations: [String: [Double]] = [:]
        var phaseDurations: [String: [Double]] = [:]
        var firstSpawn: [String: Double] = [:]
        var lastMerge: [String: Double] = [:]
        var retries: [String: Int] = [:]
        var outcomes: [BatchID: [AttemptOutcome]] = [:]
        let failing: Set<String> = [BatchState.retryWait.rawValue, BatchState.failed.rawValue]
        for r in records where r.event.event == EventName.transition {
            let e = r.event
            guard let id = e.batchID else { continue }
            let phaseKey = id.run + "\u{0}" + id.phase
            let t = EventFormatter.seconds(r.ts)
            if e.to == BatchState.spawning.rawValue {
                if let t { started[id] = t; firstSpawn[phaseKey] = min(firstSpawn[phaseKey] ?? t, t); firstSpawn[id.run] = min(firstSpawn[id.run] ?? t, t) }
                if (e.attempt ?? 1) > 1 { retries[id.run, default: 0] += 1 }
            }
            if e.to == BatchState.merged.rawValue, let t0 = started[id], let t1 = t {
                durations[id.run, default: []].append(t1 - t0)
                phaseDurations[phaseKey, default: []].append(t1 - t0)
                lastMerge[phaseKey] = max(lastMerge[phaseKey] ?? t1, t1)
                lastMerge[id.run] = max(lastMerge[id.run] ?? t1, t1)
            }
            if let to = e.to, failing.contains(to), e.from != BatchState.failed.rawValue {
                outcomes[id, default: []].append(AttemptOutcome(
                    attempt: e.attempt ?? 1, reason: e.reason, failureClass: e.string("class"),
                    errors: e.int("errors"), message: e.string("message")))
            }
        }
        func mean(_ d: [Double]?) -> Double? { guard let d, !d.isEmpty else { return nil }; return d.reduce(0, +) / Double(d.count) }
        var rows: [RunRow] = []
        for run in state.plans.keys.sorted() {
            guard let plan = state.plans[run] else { continue }
            let c = max(1, plan.concurrency)
            let paused = state.paused.contains(run)
            let completed = state.completed.contains(run)
            let stalled = paused || !daemonRunning || completed
            let runMean = mean(durations[run])
            var phases: [PhaseRow] = []
            var remaining = 0
            for p in plan.phases {
                var counts: [BatchState: Int] = [:]
                let mine = state.batches.values.filter { $0.id.run == run && $0.id.phase == p.id }.sorted { $0.id.index < $1.id.index }
                var interrupted = 0
                for b in mine {
                    if !daemonRunning && b.state.isActive { interrupted += 1 } else { counts[b.state, default: 0] += 1 }
                }
                let left = mine.filter { !$0.state.isTerminal }.count
                remaining += left
                let key = run + "\u{0}" + p.id
                let phaseMean = mean(phaseDurations[key]) ?? runMean
                var elapsed: Double?
                if let t0 = firstSpawn[key] {
                    let end = left > 0 && !stalled ? (now ?? lastMerge[key] ?? t0) : (lastMerge[key] ?? now ?? t0)
                    elapsed = max(0, end - t0)
                }
                let current = (mine.first { $0.state.isActive } ?? mine.first { !$0.state.isTerminal })?.id.index
                let failed = mine.filter { $0.state == .failed || $0.state == .blocked }.map {
                    FailedBatch(batch: $0.id.index, state: $0.state, attempts: outcomes[$0.id] ?? [])
                }
                phases.append(PhaseRow(
                    phase: p.id, counts: counts, total: mine.count, interrupted: interrupted, meanBatchSeconds: phaseMean,
                    elapsedSeconds: elapsed,
                    remainingSeconds: stalled ? nil : left == 0 ? 0 : phaseMean.map { $0 * Double(left) / Double(c) },
                    currentBatch: current, failedBatches: failed))
            }
            let eta = stalled || remaining == 0 ? (remaining == 0 ? 0 : nil) : runMean.map { $0 * Double(remaining) / Double(c) }
            var elapsed: Double?
            if let t0 = firstSpawn[run] {
                let end = remaining > 0 && !stalled ? (now ?? lastMerge[run] ?? t0) : (lastMerge[run] ?? now ?? t0)
                elapsed = max(0, end - t0)
            }
            rows.append(RunRow(run: run, phases: phases, completed: completed,
                               paused: paused, pauseReason: state.pauseReasons[run]?.reason,
                               pauseMessage: state.pauseReasons[run]?.message, concurrency: c, meanBatchSeconds: runMean,
                               remainingBatches: remaining, etaSeconds: eta, retries: retries[run] ?? 0,
                               elapsedSeconds: elapsed,
                               estimatedCompletion: remaining > 0 ? eta.flatMap { e in now.map { $0 + e } } : nil))
        }
        return StatusReport(runs: rows, daemonRunning: daemonRunning)
    }
}
