extension WatcherState {
    /// Folds one logged event into the state: the replay half of "recovery and live running
    /// cannot disagree". Live handling changes logged fields only through this function.
    public mutating func apply(_ e: Event) {
        switch e.event {
        case EventName.transition:
            guard let id = e.batchID else { return }
            if batches[id] != nil {
                batches[id]?.apply(e) // in place
            } else {
                var b = Batch(id: id, attemptsAllowed: plans[id.run]?.phase(id.phase)?.maxAttempts ?? 3)
                b.apply(e)
                batches[id] = b
            }
            refresh(id)
            noteOutcome(e)
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
            if e.string("command") == "pause" {
                paused.insert(run)
                pauseReasons[run] = (PauseReason.operatorRequest.rawValue, nil)
            }
            if e.string("command") == "resume" {
                if e.bool("force") == true { budgetOverride.insert(run) }
                paused.remove(run)
                pauseReasons[run] = nil
                consecutiveCrashes[run] = 0
            }
            if e.string("command") == "retry", e.bool("rebuild") == true,
               pauseReasons[run]?.reason == PauseReason.mainFileChanged.rawValue {
                paused.remove(run) // the main file is the daemon's again
                pauseReasons[run] = nil
            }
        case EventName.runPaused:
            guard let run = e.run else { return }
            paused.insert(run)
            pauseReasons[run] = (e.reason ?? PauseReason.operatorRequest.rawValue, e.string("message"))
            if e.reason == PauseReason.circuitOpen.rawValue { consecutiveCrashes[run] = 0 }
        case EventName.agentUsage:
            guard let run = e.run else { return }
            spend[run, default: RunSpend()].fold(e)
        case EventName.runResumed:
            guard let run = e.run else { return }
            paused.remove(run)
            pauseReasons[run] = nil
        case EventName.runBackoff:
            guard let run = e.run else { return }
            consecutiveTransient[run] = e.int("consecutive") ?? 1
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
    ///
    /// `cleanStop`: the previous life ended with `watcher.stopped` (its agents were left running
    /// on purpose): stopping them now is the operator's doing, not a failed attempt.
    public mutating func recover(now: Instant, adopted: Set<BatchID> = [], cleanStop: Bool = false,
                                 outputPath: (BatchID) -> String?) -> [Effect] {
        var effects: [Effect] = []
        for id in batches.keys.sorted() {
            guard let b = batches[id] else { continue }
            if adopted.contains(id), b.state == .running, let pid = b.pid {
                let limit = timeout(of: id)
                batches[id]?.agentAlive = true
                let life = ChildLifetime(deadline: now.adding(seconds: limit), grace: grace(of: id))
                batches[id]?.life = life
                effects.append(.log(Event(event: EventName.agentAdopted, run: id.run, phase: id.phase, batch: id.index,
                                          attempt: b.attempt, details: [.init("pid", .int(Int(pid)))])))
                refresh(id)
                continue
            }
            switch b.state {
            case .spawning, .running:
                if let path = outputPath(id) {
                    transition(id, to: .validating, reason: TransitionReason.watcherRestart.rawValue, into: &effects)
                    batches[id]?.validatingPath = path
                    effects.append(.validate(id, attempt: b.attempt, path: path))
                } else if cleanStop {
                    transition(id, to: .pending, reason: TransitionReason.stopped.rawValue,
                               details: Self.stoppedDetails, into: &effects)
                } else {
                    let report = ValidationReport.from(errors: [ValidationError(
                        type: "watcher_restart", item: nil,
                        message: "the watcher restarted while the agent was running; the agent was stopped",
                        suggestion: nil)], stats: [:])
                    failAttempt(id, class: .noOutput, reason: .watcherRestart, report: report, path: nil, now: now, into: &effects)
                }
            case .validating, .merging:
                if let path = outputPath(id) {
                    transition(id, to: .validating, reason: TransitionReason.watcherRestart.rawValue, into: &effects)
                    batches[id]?.validatingPath = path
                    effects.append(.validate(id, attempt: b.attempt, path: path))
                } else {
                    let report = ValidationReport.from(errors: [ValidationError(
                        type: "no_output", item: nil, message: "the output file was gone after a restart", suggestion: nil)],
                        stats: [:])
                    failAttempt(id, class: .noOutput, reason: .watcherRestart, report: report, path: nil, now: now, into: &effects)
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

extension WatcherState {
    static let stoppedDetails: [Event.Detail] = [
        .init("class", .string(FailureClass.stopped.rawValue)), .init("attempt_used", .bool(false)),
    ]

    /// A clean stop (SIGTERM, SIGINT, `stop`) ends the running agents: their batches go back to
    /// `pending` with the attempt handed back and nothing added to the next prompt. A batch whose
    /// output is already there stays as it is: the next start checks that output.
    public mutating func stopAgents(outputPath: (BatchID) -> String?) -> [Effect] {
        var effects: [Effect] = []
        for id in batches.keys.sorted() {
            guard let b = batches[id], b.state == .running || b.state == .spawning, outputPath(id) == nil else { continue }
            transition(id, to: .pending, reason: TransitionReason.stopped.rawValue, details: Self.stoppedDetails, into: &effects)
            batches[id]?.agentAlive = false
            batches[id]?.life = nil
            refresh(id)
        }
        return effects
    }

    /// The counters the breaker and the run backoff keep, folded from each transition record
    /// (live and on replay alike).
    mutating func noteOutcome(_ e: Event) {
        guard let run = e.run else { return }
        if let c = e.failureClass {
            if c.tripsBreaker { consecutiveCrashes[run, default: 0] += 1 }
            else if c != .transient && c != .stopped && c != .validatorFailed { consecutiveCrashes[run] = 0 }
            if c != .transient && c != .stopped { consecutiveTransient[run] = 0 }
        } else if e.to == BatchState.validating.rawValue && e.from == BatchState.running.rawValue {
            // The agent ran and wrote its output: its command and its service work. (Read
            // before written: on a long replay the counts are nearly always 0 already.)
            if consecutiveCrashes[run] != 0 { consecutiveCrashes[run] = 0 }
            if consecutiveTransient[run] != 0 { consecutiveTransient[run] = 0 }
        }
    }
}
