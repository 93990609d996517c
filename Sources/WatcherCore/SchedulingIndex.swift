/// Derived bookkeeping that keeps scheduling O(log n) per input: which batches hold a slot,
/// which are still open, which may be ready (a heap in scheduling order), and every deadline
/// (a heap). It is rebuilt from the batches by `refresh`, never logged, and ignored by `==`.
struct SchedulingIndex: Sendable {
    struct Run: Sendable {
        var active: Set<BatchID> = []
        var open: Set<BatchID> = []
        var queued: Set<BatchID> = []
        /// Scheduling keys (phase position × stride + batch index) of possibly ready batches.
        var ready = MinHeap<Int>()
    }

    struct Deadline: Comparable, Sendable {
        var at: Instant
        var id: BatchID
        static func < (a: Deadline, b: Deadline) -> Bool { (a.at, a.id) < (b.at, b.id) }
    }

    var runs: [String: Run] = [:]
    var deadlines = MinHeap<Deadline>()
    var queuedDeadlines: [BatchID: [Instant]] = [:]
}

extension WatcherState {
    func schedulingKey(_ id: BatchID, _ plan: RunPlan) -> Int? {
        guard let p = plan.phaseIndex(id.phase) else { return nil }
        return p * (plan.batchCount + 1) + id.index
    }

    func batchID(forKey key: Int, _ plan: RunPlan) -> BatchID {
        let stride = plan.batchCount + 1
        return BatchID(run: plan.run, phase: plan.phases[key / stride].id, index: key % stride)
    }

    /// Whether `id` may start an attempt once a slot is free: pending, or retry_wait whose
    /// backoff has passed and whose old agent is gone; and its dependency merged or skipped.
    func isReadyIgnoringSlots(_ id: BatchID) -> Bool {
        guard let b = batches[id] else { return false }
        switch b.state {
        case .pending: break
        case .retryWait: guard !b.agentAlive, b.retryAt == nil else { return false }
        default: return false
        }
        return dependencySatisfied(id)
    }

    func dependencySatisfied(_ id: BatchID) -> Bool {
        guard let dep = plans[id.run]?.dependency(of: id) else { return true }
        return batches[dep]?.state.satisfiesDependants ?? false
    }

    /// Brings the index up to date with batch `id` (and the batch that depends on it).
    mutating func refresh(_ id: BatchID) {
        refreshOne(id)
        if let d = plans[id.run]?.dependant(of: id) { refreshOne(d) }
    }

    private mutating func refreshOne(_ id: BatchID) {
        guard let b = batches[id], let plan = plans[id.run] else { return }
        // Mutated in place through the dictionary (never copied out and back: a copy of a
        // run's sets would cost O(batches) per input).
        let active = b.state.isActive || b.agentAlive
        let open = !b.state.isTerminal || b.agentAlive
        let ready = isReadyIgnoringSlots(id)
        let key = schedulingKey(id, plan)
        withRun(id.run) { run in
            if active { run.active.insert(id) } else { run.active.remove(id) }
            if open { run.open.insert(id) } else { run.open.remove(id) }
            if ready, let key, run.queued.insert(id).inserted { run.ready.push(key) }
        }
        let due = b.deadlines
        if due.isEmpty {
            index.queuedDeadlines[id] = nil
            return
        }
        for at in due where !(index.queuedDeadlines[id]?.contains(at) ?? false) {
            index.deadlines.push(.init(at: at, id: id))
            index.queuedDeadlines[id, default: []].append(at)
        }
    }

    private mutating func withRun(_ run: String, _ body: (inout SchedulingIndex.Run) -> Void) {
        body(&index.runs[run, default: SchedulingIndex.Run()])
    }

    /// Takes every deadline at or before `now` off the heap: the batches to look at in a tick.
    mutating func popDueDeadlines(now: Instant) -> [BatchID] {
        var ids: Set<BatchID> = []
        while let top = index.deadlines.min, top.at <= now {
            index.deadlines.popMin()
            index.queuedDeadlines[top.id]?.removeAll { $0 == top.at }
            ids.insert(top.id)
        }
        return ids.sorted()
    }
}

extension WatcherState {
    /// Builds a run's part of the index anew: its scheduling keys depend on the batch count,
    /// so a plan that grew makes every queued key of the old one stale.
    mutating func rebuildIndex(run: String) {
        index.runs[run] = nil
        guard let plan = plans[run] else { return }
        for id in plan.batchIDs { refresh(id) }
    }
}
