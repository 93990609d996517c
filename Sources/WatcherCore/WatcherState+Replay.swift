extension WatcherState {
    /// Folds one logged event into the state: the replay half of "recovery and live running
    /// cannot disagree". Live handling changes logged fields only through this function.
    public mutating func apply(_ e: Event) {
        switch e.event {
        case EventName.transition:
            guard let id = e.batchID else { return }
            if batches[id] == nil { batches[id] = Batch(id: id, attemptsAllowed: plans[id.run]?.phase(id.phase)?.maxAttempts ?? 3) }
            batches[id]?.apply(e)
            refresh(id)
            if let to = e.to, to == BatchState.pending.rawValue, let run = e.run { completed.remove(run) }
        case EventName.runCompleted:
            if let run = e.run { completed.insert(run) }
        case EventName.drainStarted:
            guard let run = e.run, let plan = plans[run] else { return }
            drains[run] = (e.strings("order") ?? []).compactMap { DrainPlanner.parse($0, plan: plan) }
        case EventName.drainRequeued:
            guard let run = e.run, let id = e.batchID else { return }
            drains[run]?.removeAll { $0 == id }
        case EventName.drainCompleted:
            if let run = e.run { drains[run] = nil }
        case EventName.controlApplied:
            guard let run = e.run else { return }
            if e.string("command") == "pause" { paused.insert(run) }
            if e.string("command") == "resume" { paused.remove(run) }
        default:
            break
        }
    }

    /// After replay: every batch that was in flight when the watcher stopped is settled.
    /// Agents from the previous life must already have been stopped by the shell (their
    /// process groups killed and reaped); their attempts count as failed with `watcher_restart`.
    /// A batch that was validating or merging is checked again (the merge is idempotent).
    /// Agents in `adopted` were found alive and are kept: their batches stay `running`, with a
    /// fresh timeout, until their exit is seen.
    public mutating func recover(now: Instant, adopted: Set<BatchID> = [], outputPath: (BatchID) -> String?) -> [Effect] {
        var effects: [Effect] = []
        for id in batches.keys.sorted() {
            guard let b = batches[id] else { continue }
            if adopted.contains(id), b.state == .running, let pid = b.pid {
                let limit = timeout(of: id)
                batches[id]?.agentAlive = true
                batches[id]?.timeoutAt = now.adding(seconds: limit)
                effects.append(.log(Event(event: EventName.agentAdopted, run: id.run, phase: id.phase, batch: id.index,
                                          attempt: b.attempt, details: [.init("pid", .int(Int(pid)))])))
                refresh(id)
                continue
            }
            switch b.state {
            case .spawning, .running:
                if let path = outputPath(id) {
                    transition(id, to: .validating, reason: "watcher_restart", into: &effects)
                    batches[id]?.validatingPath = path
                    effects.append(.validate(id, attempt: b.attempt, path: path))
                } else {
                    let report = ValidationReport.from(errors: [ValidationError(
                        type: "watcher_restart", item: nil,
                        message: "the watcher restarted while the agent was running; the agent was stopped",
                        suggestion: nil)], stats: [:])
                    failAttempt(id, reason: "watcher_restart", report: report, path: nil, now: now, into: &effects)
                }
            case .validating, .merging:
                if let path = outputPath(id) {
                    transition(id, to: .validating, reason: "watcher_restart", into: &effects)
                    batches[id]?.validatingPath = path
                    effects.append(.validate(id, attempt: b.attempt, path: path))
                } else {
                    let report = ValidationReport.from(errors: [ValidationError(
                        type: "no_output", item: nil, message: "the output file was gone after a restart", suggestion: nil)],
                        stats: [:])
                    failAttempt(id, reason: "watcher_restart", report: report, path: nil, now: now, into: &effects)
                }
            default:
                break
            }
            refresh(id)
        }
        afterInput(now: now, into: &effects)
        return effects
    }
}
