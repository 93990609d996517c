/// What each run, phase, batch and attempt cost, from the event log's `agent.usage` records
/// alone, with a projection of the run's total. A value; ``json`` gives it to `--json` outputs.
public struct CostReport: Equatable, Sendable {
    /// Sums over a set of attempts.
    public struct Totals: Equatable, Sendable {
        public var attempts = 0
        public var inputTokens = 0
        public var outputTokens = 0
        public var cacheReadTokens = 0
        public var cacheWriteTokens = 0
        public var costUSD = 0.0
        /// Some of `costUSD` was computed from the spec's `prices`, not given by the CLI.
        public var estimated = false
        /// Attempts with tokens but no cost (no CLI figure, no price).
        public var unpricedAttempts = 0
        /// The cost of attempts after a batch's first: what retries cost.
        public var retryCostUSD = 0.0
        public var mergedItems = 0

        public init() {}

        public var tokens: Int { inputTokens + outputTokens + cacheReadTokens + cacheWriteTokens }
        /// Cache reads over all input (uncached + cache reads + cache writes); nil without input.
        public var cacheReadShare: Double? {
            let all = inputTokens + cacheReadTokens + cacheWriteTokens
            return all > 0 ? Double(cacheReadTokens) / Double(all) : nil
        }
        public var retryShare: Double? { costUSD > 0 ? retryCostUSD / costUSD : nil }
        public var costPerMergedItem: Double? { mergedItems > 0 ? costUSD / Double(mergedItems) : nil }

        mutating func add(_ attempt: AttemptUsage) {
            let a = attempt.usage
            attempts += 1
            inputTokens += a.inputTokens
            outputTokens += a.outputTokens
            cacheReadTokens += a.cacheReadTokens
            cacheWriteTokens += a.cacheWriteTokens
            if let c = a.costUSD {
                costUSD += c
                if attempt.attempt > 1 { retryCostUSD += c }
                if a.estimated { estimated = true }
            } else if a.totalTokens > 0 {
                unpricedAttempts += 1
            }
        }
    }

    /// One `agent.usage` record.
    public struct AttemptUsage: Equatable, Sendable {
        public var batch: BatchID
        public var attempt: Int
        public var ts: String
        /// As logged: the models by name only (their tokens are summed in the record).
        public var usage: AgentUsage
        /// `success`, the CLI's failure kind, or `unreadable`.
        public var verdict: String
        public var message: String?

        init?(_ r: EventRecord) {
            let e = r.event
            guard e.event == EventName.agentUsage, let id = e.batchID else { return nil }
            batch = id
            attempt = e.attempt ?? 1
            ts = r.ts
            usage = AgentUsage(record: e)
            verdict = e.string("verdict") ?? "success"
            message = e.string("message")
        }
    }

    public struct BatchCost: Equatable, Sendable {
        public var id: BatchID
        public var totals: Totals
        public var attempts: [AttemptUsage]
    }

    public struct PhaseCost: Equatable, Sendable {
        public var phase: String
        public var totals: Totals
    }

    /// The run's projected total: what was spent plus the mean cost of a merged batch (all its
    /// attempts) times the batches not yet done.
    public struct Projection: Equatable, Sendable {
        public var totalUSD: Double
        public var perBatchUSD: Double
        public var mergedBatches: Int
        public var batchesLeft: Int
        public var spentUSD: Double

        public var basis: String {
            "spent $\(CostFormat.usd(spentUSD)) + \(batchesLeft) batch\(batchesLeft == 1 ? "" : "es") left × "
                + "$\(CostFormat.usd(perBatchUSD)) (mean of \(mergedBatches) merged batch\(mergedBatches == 1 ? "" : "es"), retries included)"
        }
    }

    public struct RunCost: Equatable, Sendable {
        public var run: String
        public var totals: Totals
        public var phases: [PhaseCost]
        public var batches: [BatchCost]
        public var mergedBatches: Int
        public var batchesLeft: Int
        /// Nil until a batch with usage has merged.
        public var projection: Projection?
    }

    public var runs: [RunCost]

    public func run(_ name: String) -> RunCost? { runs.first { $0.run == name } }

    public static func build(_ records: [EventRecord]) -> CostReport {
        build(records, replayed: StatusReport.replay(records))
    }

    /// The same, from `state` = `StatusReport.replay(records)` made once by a caller that needs it too.
    public static func build(_ records: [EventRecord], replayed state: WatcherState) -> CostReport {
        var byBatch: [BatchID: [AttemptUsage]] = [:]
        var items: [BatchID: Int] = [:]
        for r in records {
            if let a = AttemptUsage(r) { byBatch[a.batch, default: []].append(a) }
            let e = r.event
            if e.event == EventName.transition, e.to == BatchState.merged.rawValue, let id = e.batchID {
                items[id] = e.int("items") ?? 0
            }
        }
        var runs: [RunCost] = []
        for run in state.plans.keys.sorted() {
            guard let plan = state.plans[run] else { continue }
            var total = Totals()
            var phases: [PhaseCost] = []
            var batches: [BatchCost] = []
            var merged = 0, left = 0, mergedCost = 0.0, mergedWithUsage = 0
            for p in plan.phases {
                var pt = Totals()
                for id in plan.batchIDs where id.phase == p.id {
                    let b = state.batches[id]
                    var bt = Totals()
                    let attempts = byBatch[id] ?? []
                    for a in attempts { bt.add(a) }
                    if b?.state == .merged {
                        bt.mergedItems = items[id] ?? 0
                        merged += 1
                        if !attempts.isEmpty {
                            mergedWithUsage += 1
                            mergedCost += bt.costUSD
                        }
                    } else if !(b?.state.isTerminal ?? false) {
                        left += 1
                    }
                    pt.merge(bt)
                    if !attempts.isEmpty { batches.append(BatchCost(id: id, totals: bt, attempts: attempts)) }
                }
                total.merge(pt)
                phases.append(PhaseCost(phase: p.id, totals: pt))
            }
            let projection = mergedWithUsage > 0 && total.unpricedAttempts == 0
                ? Projection(totalUSD: total.costUSD + Double(left) * mergedCost / Double(mergedWithUsage),
                             perBatchUSD: mergedCost / Double(mergedWithUsage), mergedBatches: mergedWithUsage,
                             batchesLeft: left, spentUSD: total.costUSD)
                : nil
            runs.append(RunCost(run: run, totals: total, phases: phases, batches: batches, mergedBatches: merged,
                                batchesLeft: left, projection: projection))
        }
        return CostReport(runs: runs)
    }
}

extension CostReport.Totals {
    mutating func merge(_ o: CostReport.Totals) {
        attempts += o.attempts
        inputTokens += o.inputTokens
        outputTokens += o.outputTokens
        cacheReadTokens += o.cacheReadTokens
        cacheWriteTokens += o.cacheWriteTokens
        costUSD += o.costUSD
        estimated = estimated || o.estimated
        unpricedAttempts += o.unpricedAttempts
        retryCostUSD += o.retryCostUSD
        mergedItems += o.mergedItems
    }
}
