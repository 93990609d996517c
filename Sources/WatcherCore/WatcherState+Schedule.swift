extension WatcherState {
    /// After every input: start what may start, then say which runs are complete.
    mutating func afterInput(now: Instant, into effects: inout [Effect]) {
        continueDrains(into: &effects)
        schedule(now: now, into: &effects)
        completeRuns(into: &effects)
    }

    /// Whether `id` may start an attempt at `now` (ignoring the concurrency limit).
    public func isReady(_ id: BatchID, now: Instant) -> Bool {
        guard let b = batches[id] else { return false }
        switch b.state {
        case .pending: return dependencySatisfied(id)
        case .retryWait: return !b.agentAlive && (b.retryAt ?? now) <= now && dependencySatisfied(id)
        default: return false
        }
    }

    /// Batches of `run` holding a concurrency slot: active, or with an agent still stopping.
    public func activeCount(run: String) -> Int { index.runs[run]?.active.count ?? 0 }

    /// Deterministic: runs by name; in a run, in its plan's `order` (``SchedulingOrder``).
    mutating func schedule(now: Instant, into effects: inout [Effect]) {
        guard !schedulingHeld else { return }
        resumeWithinBudget(into: &effects)
        for run in plans.keys.sorted() where !paused.contains(run) {
            guard let plan = plans[run] else { continue }
            if let until = backoffUntil[run] {
                if until > now { continue } // the agent CLI's service asked us to wait
                backoffUntil[run] = nil
            }
            while activeCount(run: run) < plan.concurrency, let id = nextQueued(run, plan) {
                if overBudget(before: id, into: &effects) { break }
                index.runs[run]?.queued.remove(id) // its heap entries are stale now
                guard isReadyIgnoringSlots(id), inScope(id), let b = batches[id] else { continue }
                let attempt = b.attempt + 1
                if let held = b.heldPath {
                    // Its output is still there: check it again (the operator fixed the validator).
                    transition(id, to: .validating, reason: TransitionReason.revalidate.rawValue, attempt: attempt, into: &effects)
                    batches[id]?.validatingPath = held
                    effects.append(.validate(id, attempt: attempt, path: held))
                    continue
                }
                transition(id, to: .spawning, attempt: attempt, into: &effects)
                effects.append(.spawn(id, attempt: attempt, feedback: b.lastReport))
            }
        }
    }

    mutating func completeRuns(into effects: inout [Effect]) {
        for run in plans.keys.sorted() where !completed.contains(run) {
            guard let plan = plans[run], index.runs[run]?.open.isEmpty ?? true else { continue } // 0 items: complete at once
            var counts: [BatchState: Int] = [:]
            for id in plan.batchIDs { if let b = batches[id] { counts[b.state, default: 0] += 1 } }
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
