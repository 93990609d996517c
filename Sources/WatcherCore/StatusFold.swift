/// What a status report is made of, folded one record at a time: the watcher's state (plans
/// from `run.started` records) and each batch's and phase's times. It holds what the batches
/// are, not the records, so a reader that follows a long log (the foreground `run`) keeps it
/// instead of every record.
public struct StatusFold: Sendable {
    public private(set) var state = WatcherState()
    var facts: [String: (PlanFacts, concurrency: Int)] = [:]
    var started: [BatchID: Double] = [:]
    var durations: [String: [Double]] = [:]
    var phaseDurations: [String: [Double]] = [:]
    var firstSpawn: [String: Double] = [:]
    var lastMerge: [String: Double] = [:]
    var retries: [String: Int] = [:]
    var outcomes: [BatchID: [StatusReport.AttemptOutcome]] = [:]

    /// Whether `add` folds the records into `state` too; a reader beside the daemon that
    /// folds them (the foreground `run`) gives its state to `report` instead of keeping a second one.
    let foldsState: Bool

    /// The state is only read here, never scheduled: its index is never built.
    public init(foldingState: Bool = true) {
        foldsState = foldingState
        state.beginReplay()
    }

    public mutating func add(_ r: EventRecord) {
        let e = r.event
        if foldsState { foldState(r) }
        guard e.event == EventName.transition, let id = e.batchID else { return }
        timesOf(r, id)
    }

    mutating func foldState(_ r: EventRecord) {
        let e = r.event
        if let run = e.run {
            if e.event == EventName.runStarted, let f = PlanFacts(runStarted: e) {
                facts[run] = (f, e.int("concurrency") ?? 1)
            } else if e.event == EventName.runExtended || e.event == EventName.specChanged {
                facts[run]?.0.fold(e)
            }
            // A concurrency changed on SIGHUP is the one in force (status, its ETA, the dashboard).
            if e.event == EventName.specChanged, let c = facts[run]?.0.settings["concurrency"].flatMap({ Int($0) }) {
                facts[run]?.concurrency = c
                state.plans[run]?.concurrency = c
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

    mutating func timesOf(_ r: EventRecord, _ id: BatchID) {
        let e = r.event
        guard let to = e.to else { return }
        // Only `→ spawning` and `→ merged` need the time and the phase's key: the others
        // (most records of a long log) cost no timestamp parse and no string built.
        if to == BatchState.spawning.rawValue {
            if let t = EventFormatter.seconds(r.ts) {
                let phaseKey = id.run + "\u{0}" + id.phase
                started[id] = t
                firstSpawn[phaseKey] = min(firstSpawn[phaseKey] ?? t, t)
                firstSpawn[id.run] = min(firstSpawn[id.run] ?? t, t)
            }
            if (e.attempt ?? 1) > 1 { retries[id.run, default: 0] += 1 }
        } else if to == BatchState.merged.rawValue {
            // Taken out, not read: a long log's merged batches keep no start time each.
            if let t0 = started.removeValue(forKey: id), let t1 = EventFormatter.seconds(r.ts) {
                let phaseKey = id.run + "\u{0}" + id.phase
                durations[id.run, default: []].append(t1 - t0)
                phaseDurations[phaseKey, default: []].append(t1 - t0)
                lastMerge[phaseKey] = max(lastMerge[phaseKey] ?? t1, t1)
                lastMerge[id.run] = max(lastMerge[id.run] ?? t1, t1)
            }
        } else if to == BatchState.retryWait.rawValue || to == BatchState.failed.rawValue, e.from != BatchState.failed.rawValue {
            outcomes[id, default: []].append(StatusReport.AttemptOutcome(
                attempt: e.attempt ?? 1, reason: e.reason, failureClass: e.string("class"),
                errors: e.int("errors"), message: e.string("message")))
        }
    }

    /// `daemonRunning: false` shows active batches as `interrupted` and gives no ETA; `now`
    /// (seconds since the epoch) measures elapsed times of what still goes on.
    public func report(daemonRunning: Bool = true, now: Double? = nil) -> StatusReport {
        report(of: state, daemonRunning: daemonRunning, now: now)
    }

    /// The report with the batches of `state` (the daemon's own) and the times folded here.
    public func report(of state: WatcherState, daemonRunning: Bool = true, now: Double? = nil) -> StatusReport {
        typealias RunRow = StatusReport.RunRow
        typealias PhaseRow = StatusReport.PhaseRow
        typealias FailedBatch = StatusReport.FailedBatch
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
