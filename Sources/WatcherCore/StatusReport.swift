/// Progress per run and phase, from the event log alone.
public struct StatusReport: Equatable, Sendable {
    public struct PhaseRow: Equatable, Sendable {
        public var phase: String
        public var counts: [BatchState: Int]
        public var total: Int
        public func count(_ s: BatchState) -> Int { counts[s] ?? 0 }
        public var running: Int { count(.spawning) + count(.running) + count(.validating) + count(.merging) }
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
    }

    public var runs: [RunRow]

    /// The watcher's state as the log says, with plans taken from `run.started` records.
    public static func replay(_ records: [EventRecord]) -> WatcherState {
        var state = WatcherState()
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
        return state
    }

    public static func build(_ records: [EventRecord]) -> StatusReport {
        let state = replay(records)
        var started: [BatchID: Double] = [:]
        var durations: [String: [Double]] = [:]
        var retries: [String: Int] = [:]
        for r in records where r.event.event == EventName.transition {
            let e = r.event
            guard let id = e.batchID else { continue }
            if e.to == BatchState.spawning.rawValue {
                if let t = EventFormatter.seconds(r.ts) { started[id] = t }
                if (e.attempt ?? 1) > 1 { retries[id.run, default: 0] += 1 }
            }
            if e.to == BatchState.merged.rawValue, let t0 = started[id], let t1 = EventFormatter.seconds(r.ts) {
                durations[id.run, default: []].append(t1 - t0)
            }
        }
        var rows: [RunRow] = []
        for run in state.plans.keys.sorted() {
            guard let plan = state.plans[run] else { continue }
            var phases: [PhaseRow] = []
            var remaining = 0
            for p in plan.phases {
                var counts: [BatchState: Int] = [:]
                let mine = state.batches.values.filter { $0.id.run == run && $0.id.phase == p.id }
                for b in mine { counts[b.state, default: 0] += 1 }
                remaining += mine.filter { !$0.state.isTerminal }.count
                phases.append(PhaseRow(phase: p.id, counts: counts, total: mine.count))
            }
            let d = durations[run] ?? []
            let mean = d.isEmpty ? nil : d.reduce(0, +) / Double(d.count)
            let c = max(1, plan.concurrency)
            rows.append(RunRow(run: run, phases: phases, completed: state.completed.contains(run),
                               paused: state.paused.contains(run), pauseReason: state.pauseReasons[run]?.reason,
                               pauseMessage: state.pauseReasons[run]?.message, concurrency: c, meanBatchSeconds: mean,
                               remainingBatches: remaining,
                               etaSeconds: mean.map { $0 * Double(remaining) / Double(c) },
                               retries: retries[run] ?? 0))
        }
        return StatusReport(runs: rows)
    }
}
