/// The whole watcher as a value: every run's plan and every batch. `handle(_:now:)` turns a
/// fact into effects; `apply(_:)` replays a logged event. Neither touches the disk or a clock.
public struct WatcherState: Equatable, Sendable {
    public internal(set) var plans: [String: RunPlan] = [:]
    public internal(set) var batches: [BatchID: Batch] = [:]
    public internal(set) var paused: Set<String> = []
    public internal(set) var completed: Set<String> = []
    /// While true, no agent is started (the daemon holds it during start-up, until the files
    /// found by the first scan have been looked at).
    public var schedulingHeld = false
    /// Batches a drain still has to re-queue, per run, in order.
    public internal(set) var drains: [String: [BatchID]] = [:]
    var index = SchedulingIndex()

    public init() {}

    public static func == (a: WatcherState, b: WatcherState) -> Bool {
        a.plans == b.plans && a.batches == b.batches && a.paused == b.paused && a.completed == b.completed
            && a.drains == b.drains
    }

    /// Registers a run; batches not yet known start `pending`. Returns `run.started` the first time.
    public mutating func add(_ plan: RunPlan) -> [Effect] {
        let isNew = plans[plan.run] == nil && !batches.keys.contains { $0.run == plan.run }
        plans[plan.run] = plan
        for id in plan.batchIDs where batches[id] == nil {
            batches[id] = Batch(id: id, attemptsAllowed: plan.phase(id.phase)?.maxAttempts ?? 3)
        }
        for id in plan.batchIDs { refresh(id) }
        guard isNew else { return [] }
        return [.log(Event(event: EventName.runStarted, run: plan.run, details: [
            .init("phases", .strings(plan.phases.map(\.id))),
            .init("batches", .int(plan.batchCount)),
            .init("items", .int(plan.itemCount)),
            .init("batch_size", .int(plan.batchSize)),
            .init("concurrency", .int(plan.concurrency)),
        ]))]
    }

    public func batch(_ id: BatchID) -> Batch? { batches[id] }

    /// The earliest deadline of any batch: the loop sleeps at most until then.
    public mutating func nextDeadline() -> Instant? {
        while let top = index.deadlines.min {
            if batches[top.id]?.deadlines.contains(top.at) == true { return top.at }
            index.deadlines.popMin() // stale: that deadline was cleared or moved
            index.queuedDeadlines[top.id]?.removeAll { $0 == top.at }
        }
        return nil
    }

    /// Batches whose agent may still be running from before a restart.
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
        refresh(id)
        effects.append(.log(e))
    }
}
