extension WatcherState {
    /// Logs an attempt's `agent.usage` record and folds it (the run's spend).
    mutating func noteUsage(_ outcome: AgentOutcome, of id: BatchID, attempt: Int, into effects: inout [Effect]) {
        let e = outcome.event(id, attempt: attempt)
        apply(e)
        effects.append(.log(e))
    }

    /// The agent CLI said its session failed (and left no output): a failed attempt of the
    /// verdict's class whatever the exit status; a rate limit or overload backs the run off.
    mutating func agentSaidItFailed(_ id: BatchID, _ verdict: AgentVerdict, status: String, now: Instant,
                                    into effects: inout [Effect]) {
        let said = verdict.kind + (verdict.message.map { ": " + $0 } ?? "")
        if verdict.failureClass == .transient {
            let report = ValidationReport.from(errors: [ValidationError(
                type: "transient", item: nil,
                message: "the agent's service failed (\(status); the CLI said \(said)); the run waits and tries again",
                suggestion: nil)], stats: [:])
            failAttempt(id, class: .transient, reason: .transient, report: report, path: nil,
                        extra: [.init("matched", .string("verdict " + verdict.kind))], now: now, into: &effects)
            batches[id]?.lastReport = nil
            backOff(id.run, pattern: "verdict " + verdict.kind, now: now, into: &effects)
        } else {
            let report = ValidationReport.from(errors: [ValidationError(
                type: "agent_failed", item: nil,
                message: "the agent CLI reported a failure (\(status)): \(said)",
                suggestion: "finish the whole batch within the session's limits and write the output file")], stats: [:])
            failAttempt(id, class: .agentCrashed, reason: .agentCrashed, report: report, path: nil,
                        extra: [.init("verdict", .string(verdict.kind))], now: now, into: &effects)
        }
    }

    /// Agents of `run` whose spend is not in the log yet (spawning or still running).
    public func agentsRunning(_ run: String) -> Int {
        batches.values.reduce(0) { n, b in n + (b.id.run == run && (b.agentAlive || b.state == .spawning) ? 1 : 0) }
    }

    /// The budget decision of `run` now, nil when another agent may start.
    public func budgetBreach(_ run: String) -> BudgetBreach? {
        guard let plan = plans[run], plan.budget != nil, !budgetOverride.contains(run) else { return nil }
        return BudgetCheck.breach(plan.budget, spent: spend[run] ?? RunSpend(), running: agentsRunning(run))
    }

    /// Before `id`'s agent starts: if the run's budget is reached, the run pauses (`budget_reached`
    /// with the figures) and nothing starts. True when it did.
    mutating func overBudget(before id: BatchID, into effects: inout [Effect]) -> Bool {
        guard plans[id.run]?.budget != nil, isReadyIgnoringSlots(id), batches[id]?.heldPath == nil,
              let breach = budgetBreach(id.run) else { return false }
        let e = Event(event: EventName.runPaused, run: id.run, reason: PauseReason.budgetReached.rawValue,
                      details: [.init("message", .string(breach.message))] + breach.details)
        apply(e)
        effects.append(.log(e))
        return true
    }

    /// Runs paused by their budget go on once it allows another agent (raised by a spec reload,
    /// or the running agents spent less than feared).
    mutating func resumeWithinBudget(into effects: inout [Effect]) {
        for run in paused.sorted() where pauseReasons[run]?.reason == PauseReason.budgetReached.rawValue {
            guard budgetBreach(run) == nil else { continue }
            let e = Event(event: EventName.runResumed, run: run, reason: "budget_available")
            apply(e)
            effects.append(.log(e))
        }
    }

    /// `{budget_usd}`: the cost budget left per batch not yet done (this one included).
    public func budgetLeftPerBatch(_ run: String) -> Double? {
        guard let plan = plans[run] else { return nil }
        let open = plan.batchIDs.reduce(0) { n, id in n + (batches[id].map { !$0.state.isTerminal } ?? false ? 1 : 0) }
        return BudgetCheck.leftPerBatch(plan.budget, spent: spend[run] ?? RunSpend(), remainingBatches: open)
    }
}
