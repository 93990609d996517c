extension WatcherState {
    mutating func control(_ c: ControlCommand, now: Instant, into effects: inout [Effect]) {
        if c.rebuild { return rebuild(c, into: &effects) }
        guard let plan = plans[c.run] else {
            effects.append(.log(controlEvent(c, applied: false, reason: "unknown run \(c.run)")))
            return
        }
        let targets: [BatchID]
        if let phase = c.phase {
            guard plan.phaseIndex(phase) != nil, let k = c.batch, batches[BatchID(run: c.run, phase: phase, index: k)] != nil else {
                effects.append(.log(controlEvent(c, applied: false, reason: "no batch \(phase)/\(c.batch.map(String.init) ?? "?") in run \(c.run)")))
                return
            }
            targets = [BatchID(run: c.run, phase: phase, index: k)]
        } else {
            targets = plan.batchIDs
        }
        var changed = 0
        switch c.verb {
        case .pause:
            break // applied with its record (see `apply`)
        case .resume:
            break // applied with its record (see `apply`): the pause, its reason and the breaker's count go
        case .retry:
            for id in targets {
                guard let b = batches[id], [.failed, .blocked, .cancelled, .skipped].contains(b.state),
                      hopelessDependency(of: id) == nil else { continue } // it would wait forever
                requeue(id, reason: "retry", into: &effects)
                changed += 1
            }
        case .skip:
            for id in targets {
                guard let b = batches[id], !b.state.isActive, b.state != .merged, b.state != .skipped else { continue }
                transition(id, to: .skipped, reason: TransitionReason.skip.rawValue, into: &effects)
                skipDependants(of: id, into: &effects)
                changed += 1
            }
        case .drain:
            let drainPlan = DrainPlanner.plan(self, run: c.run, max: c.max, force: c.force)
            let e = Event(event: EventName.drainStarted, run: c.run, details: [
                .init("order", .strings(drainPlan.order.map { DrainPlanner.label($0.id) })),
                .init("held_back", .strings(drainPlan.heldBack.map { DrainPlanner.label($0.id) })),
                .init("force", .bool(c.force)),
            ] + (c.max.map { [.init("max", .int($0))] } ?? [])
              + ((c.drainID ?? c.id.map { "drain-" + $0 }).map { [.init("drain_id", .string($0))] } ?? []))
            apply(e)
            effects.append(.log(e))
            changed = drainPlan.order.count
        case .cancel:
            var cancelled: [BatchID] = []
            for id in targets {
                guard let b = batches[id], !b.state.isTerminal else { continue }
                // The agent's exit then ends nothing: the batch is cancelled.
                if b.agentAlive { stopAgent(id, reason: "cancelled", now: now, into: &effects) }
                // A batch that waited for one this command cancels is cancelled because of it
                // (`dependency_cancelled`): a `retry` of that one brings it back.
                if let dep = plan.dependency(of: id), cancelled.contains(dep) {
                    transition(id, to: .cancelled, reason: TransitionReason.dependencyCancelled.rawValue,
                               details: [.init("dependency", .string("\(dep.phase)/\(dep.index)"))], into: &effects)
                } else {
                    transition(id, to: .cancelled, reason: TransitionReason.cancel.rawValue, into: &effects)
                }
                cancelled.append(id)
                changed += 1
            }
            for id in cancelled {
                blockDependants(of: id, reason: .dependencyCancelled, into: &effects)
            }
        }
        if c.phase != nil && changed == 0 && [.retry, .skip, .cancel].contains(c.verb) {
            let state = batches[targets[0]]?.state.rawValue ?? "?"
            var reason = "batch is \(state)"
            if c.verb == .retry, let dep = hopelessDependency(of: targets[0]), let s = batches[dep]?.state {
                reason += "; it waits for \(dep.phase)/\(dep.index), which is \(s.rawValue): retry or skip that first"
            }
            effects.append(.log(controlEvent(c, applied: false, reason: reason)))
            return
        }
        var e = controlEvent(c, applied: true, reason: nil)
        e.details.append(.init("batches", .int(changed)))
        apply(e)
        effects.append(.log(e))
    }

    /// The dependency that will never let `id` start (failed, blocked or cancelled), if any.
    func hopelessDependency(of id: BatchID) -> BatchID? {
        guard let dep = plans[id.run]?.dependency(of: id), let s = batches[dep]?.state,
              s.isTerminal, !s.satisfiesDependants else { return nil }
        return dep
    }

    func controlEvent(_ c: ControlCommand, applied: Bool, reason: String?) -> Event {
        var details: [Event.Detail] = [.init("command", .string(c.verb.rawValue))]
        if let id = c.id { details.append(.init("id", .string(id))) }
        if let source = c.source { details.append(.init("source", .string(source))) }
        if c.verb == .resume && c.force { details.append(.init("force", .bool(true))) }
        if c.rebuild { details.append(.init("rebuild", .bool(true))) }
        return Event(event: applied ? EventName.controlApplied : EventName.controlRejected,
                     run: c.run, phase: c.phase, batch: c.batch, reason: reason, details: details)
    }
}

extension WatcherState {
    /// A failed (or blocked, cancelled) batch goes back to `pending` with a fresh budget of
    /// attempts; the dependants it had blocked wait for it again.
    mutating func requeue(_ id: BatchID, reason: String, into effects: inout [Effect]) {
        guard let b = batches[id], let plan = plans[id.run] else { return }
        transition(id, to: .pending, reason: reason,
                   details: [.init("attempts_allowed", .int(b.attempt + (plan.phase(id.phase)?.maxAttempts ?? 3)))],
                   into: &effects)
        completed.remove(id.run)
        unblockDependants(of: id, reason: .dependencyRequeued, into: &effects)
    }

    /// Re-queues the next batches of each drain while the run has free slots, logging progress
    /// so an interrupted drain continues after a restart.
    /// A drain of a paused run ends there: nothing more happens for its batches without a person.
    /// `drain.completed` then carries the pause's `reason` and the batches not re-queued.
    mutating func continueDrains(into effects: inout [Effect]) {
        for run in drains.keys.sorted() where paused.contains(run) {
            let e = Event(event: EventName.drainCompleted, run: run, reason: pauseReasons[run]?.reason ?? PauseReason.operatorRequest.rawValue,
                          details: [.init("not_requeued", .strings((drains[run] ?? []).map(DrainPlanner.label)))])
            apply(e)
            effects.append(.log(e))
        }
        for run in drains.keys.sorted() where !paused.contains(run) {
            guard let plan = plans[run] else { continue }
            var free = plan.concurrency - activeCount(run: run)
            while free > 0, let id = drains[run]?.first {
                drains[run]?.removeFirst()
                let requeued = batches[id]?.state == .failed
                if requeued { requeue(id, reason: "drain", into: &effects); free -= 1 }
                effects.append(.log(Event(event: EventName.drainRequeued, run: run, phase: id.phase, batch: id.index,
                                          reason: requeued ? nil : "no longer failed")))
            }
            if drains[run]?.isEmpty == true {
                drains[run] = nil
                effects.append(.log(Event(event: EventName.drainCompleted, run: run)))
            }
        }
    }
}
