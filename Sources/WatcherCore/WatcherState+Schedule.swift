extension WatcherState {
    /// After every input: start what may start, then say which runs are complete.
    mutating func afterInput(now: Instant, into effects: inout [Effect]) {
        schedule(now: now, into: &effects)
        completeRuns(into: &effects)
    }

    /// Whether `id` may start an attempt now (ignoring the concurrency limit).
    public func isReady(_ id: BatchID, now: Instant) -> Bool {
        guard let b = batches[id], let plan = plans[id.run] else { return false }
        switch b.state {
        case .pending: break
        case .retryWait:
            guard !b.agentAlive, (b.retryAt ?? now) <= now else { return false }
        default: return false
        }
        if let dep = plan.dependency(of: id) {
            return batches[dep]?.state.satisfiesDependants ?? false
        }
        return true
    }

    /// Batches of `run` holding a concurrency slot: active, or with an agent still stopping.
    public func activeCount(run: String) -> Int {
        batches.values.reduce(0) { $0 + ($1.id.run == run && ($1.state.isActive || $1.agentAlive) ? 1 : 0) }
    }

    /// Deterministic: runs by name; in a run, lowest phase first, then lowest batch.
    mutating func schedule(now: Instant, into effects: inout [Effect]) {
        for run in plans.keys.sorted() where !paused.contains(run) {
            guard let plan = plans[run] else { continue }
            var active = activeCount(run: run)
            guard active < plan.concurrency else { continue }
            for id in plan.batchIDs where isReady(id, now: now) {
                guard let b = batches[id] else { continue }
                let attempt = b.attempt + 1
                transition(id, to: .spawning, attempt: attempt, into: &effects)
                batches[id]?.retryAt = nil
                effects.append(.spawn(id, attempt: attempt, feedback: b.lastReport))
                active += 1
                if active >= plan.concurrency { break }
            }
        }
    }

    mutating func completeRuns(into effects: inout [Effect]) {
        for run in plans.keys.sorted() where !completed.contains(run) {
            let mine = batches.values.filter { $0.id.run == run }
            guard !mine.isEmpty, mine.allSatisfy({ $0.state.isTerminal && !$0.agentAlive }) else { continue }
            var counts: [BatchState: Int] = [:]
            for b in mine { counts[b.state, default: 0] += 1 }
            let e = Event(event: EventName.runCompleted, run: run, details: [
                .init("merged", .int(counts[.merged] ?? 0)), .init("failed", .int(counts[.failed] ?? 0)),
                .init("blocked", .int(counts[.blocked] ?? 0)), .init("skipped", .int(counts[.skipped] ?? 0)),
                .init("cancelled", .int(counts[.cancelled] ?? 0)),
            ])
            apply(e)
            effects.append(.log(e))
            effects.append(.runCompleted(run))
        }
    }
}
