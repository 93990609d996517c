/// The whole watcher as a value: every run's plan and every batch. `handle(_:now:)` turns a
/// fact into effects; `apply(_:)` replays a logged event. Neither touches the disk or a clock.
public struct WatcherState: Equatable, Sendable {
    public internal(set) var plans: [String: RunPlan] = [:]
    public internal(set) var batches = BatchTable()
    public internal(set) var paused: Set<String> = []
    public internal(set) var completed: Set<String> = []
    /// While true, no agent is started (the daemon holds it during start-up, until the files
    /// found by the first scan have been looked at).
    public var schedulingHeld = false
    /// Batches a drain still has to re-queue, per run, in order.
    public internal(set) var drains: [String: [BatchID]] = [:]
    /// Why each paused run is paused (`PauseReason` raw values), with the message logged.
    public internal(set) var pauseReasons: [String: (reason: String, message: String?)] = [:]
    /// Consecutive agent crashes and spawn failures per run (the circuit breaker's count).
    public internal(set) var consecutiveCrashes: [String: Int] = [:]
    /// Consecutive transient failures per run (the run backoff's exponent).
    public internal(set) var consecutiveTransient: [String: Int] = [:]
    /// Live only: no agent of the run starts before this (a transient failure's backoff).
    public internal(set) var backoffUntil: [String: Instant] = [:]
    /// What each run's agents spent, folded from `agent.usage` records.
    public internal(set) var spend: [String: RunSpend] = [:]
    /// Runs resumed with `resume --force` while over budget: the budget no longer stops them
    /// (until it changes).
    public internal(set) var budgetOverride: Set<String> = []
    var index = SchedulingIndex()
    /// True during a replay: see ``beginReplay()``.
    var indexDeferred = false
    /// Per run, the part of it this daemon may start (`run --batches`, `--phases`); see `RunScope`.
    public var scope: [String: RunScope] = [:]

    public init() {}

    public static func == (a: WatcherState, b: WatcherState) -> Bool {
        a.plans == b.plans && a.batches == b.batches && a.paused == b.paused && a.completed == b.completed
            && a.drains == b.drains && a.consecutiveCrashes == b.consecutiveCrashes
            && a.consecutiveTransient == b.consecutiveTransient && a.spend == b.spend && a.budgetOverride == b.budgetOverride
    }

    /// Registers a run, or changes its plan to `plan` (settings, appended items or phases);
    /// batches not yet known start `pending`. Returns `run.started` (with `facts`, what fixes
    /// the batches: see `PlanFacts`) the first time.
    public mutating func add(_ plan: RunPlan, facts: [Event.Detail] = []) -> [Effect] {
        let old = plans[plan.run]
        let isNew = old == nil && !batches.keys.contains { $0.run == plan.run }
        let reshaped = old.map { $0.batchCount != plan.batchCount || $0.phases.map(\.id) != plan.phases.map(\.id) } ?? false
        if let old, old.budget != plan.budget { budgetOverride.remove(plan.run) }
        plans[plan.run] = plan
        // The same shape as before: every batch of the plan is known and indexed already (the
        // index does not depend on the settings), so a start or a reload of a long run costs
        // nothing per batch here.
        guard old == nil || reshaped else { return [] }
        var added = false
        let ids = plan.batchIDs
        for id in ids where batches[id] == nil {
            batches[id] = Batch(id: id, attemptsAllowed: plan.phase(id.phase)?.maxAttempts ?? 3)
            added = true
        }
        if added { completed.remove(plan.run) }
        if reshaped { rebuildIndex(run: plan.run) } else if !indexDeferred { for id in ids { refresh(id) } }
        guard isNew else { return [] }
        return [.log(Event(event: EventName.runStarted, run: plan.run, details: [
            .init("phases", .strings(plan.phases.map(\.id))),
            .init("batches", .int(plan.batchCount)),
            .init("items", .int(plan.itemCount)),
            .init("batch_size", .int(plan.batchSize)),
            .init("concurrency", .int(plan.concurrency)),
        ] + facts))]
    }

    /// A started run grows: items appended (a new segment) or phases appended. Logs
    /// `run.extended`; the new batches start `pending`, the old ones are what they were.
    public mutating func extend(_ plan: RunPlan, facts: [Event.Detail], now: Instant) -> [Effect] {
        guard let old = plans[plan.run] else { return add(plan, facts: facts) }
        let e = Event(event: EventName.runExtended, run: plan.run, details: [
            .init("phases", .strings(plan.phases.map(\.id))),
            .init("batches", .int(plan.batchCount)),
            .init("items", .int(plan.itemCount)),
            .init("added_items", .int(plan.itemCount - old.itemCount)),
            .init("added_batches", .int(plan.batchIDs.count - old.batchIDs.count)),
        ] + facts)
        var effects: [Effect] = [.log(e)]
        _ = add(plan)
        afterInput(now: now, into: &effects)
        return effects
    }
    public func batch(_ id: BatchID) -> Batch? { batches[id] }

    /// The earliest deadline of any batch: the loop sleeps at most until then.
    public mutating func nextDeadline() -> Instant? {
        let backoff = backoffUntil.values.min()
        while let top = index.deadlines.min {
            if batches[top.id]?.deadlines.contains(top.at) == true { return min(top.at, backoff ?? top.at) }
            index.deadlines.popMin() // stale: that deadline was cleared or moved
            index.queuedDeadlines[top.id]?.removeAll { $0 == top.at }
        }
        return backoff
    }

    /// Batches whose agent may still be running from before a restart.
    /// The agents the log says run now, as their `running` records name them (a batch that is
    /// `spawning` has no pid of its current attempt yet: the one it has is an earlier attempt's).
    public func loggedAgents() -> [PreviousLifeProcess.Logged] {
        batches.values.filter { $0.state == .running }
            .compactMap { b in b.pid.map { PreviousLifeProcess.Logged(id: b.id, pid: $0, startTime: b.startTime) } }
            .sorted { $0.id < $1.id }
    }

    public func agentsInFlight() -> [(BatchID, Int32)] {
        batches.values.filter { ($0.state == .running || $0.state == .spawning) }
            .compactMap { b in b.pid.map { (b.id, $0) } }
            .sorted { $0.0 < $1.0 }
    }
}

extension WatcherState {
    /// Logs a transition and applies it: the same fold as replay.
    mutating func transition(_ id: BatchID, to: BatchState, reason: String? = nil,
                             details: [Event.Detail] = [], attempt: Int? = nil, into effects: inout [Effect]) {
        guard let b = batches[id] else { return }
        let e = Event(event: EventName.transition, run: id.run, phase: id.phase, batch: id.index,
                      attempt: attempt ?? b.attempt, from: b.state.rawValue, to: to.rawValue,
                      reason: reason, details: details)
        batches[id]?.apply(e)
        if to == .pending { completed.remove(id.run) } // as `apply(_:)` does on replay
        noteOutcome(e)
        refresh(id)
        effects.append(.log(e))
    }
}
