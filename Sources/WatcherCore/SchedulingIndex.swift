/// Derived bookkeeping that keeps scheduling O(log n) per input: which batches hold a slot,
/// which are still open, which may be ready (a heap in scheduling order), and every deadline
/// (a heap). It is rebuilt from the batches by `refresh`, never logged, and ignored by `==`.
struct SchedulingIndex: Sendable {
    struct Run: Sendable {
        var active: Set<BatchID> = []
        var open: Set<BatchID> = []
        var queued: Set<BatchID> = []
        /// Keys (``SchedulingIndex/phaseFirstKey(_:_:)``) of possibly ready batches: the lowest
        /// phase first. An entry whose batch is no longer in `queued` is stale (it was taken
        /// through the other heap) and is dropped when it comes to the top.
        var ready = MinHeap<Int>()
        /// The same batches by ``SchedulingIndex/chainKey(_:_:)``: the furthest along its chain first.
        var readyByChain = MinHeap<Int>()
        /// Batches not started yet (pending, or waiting to retry), and how many per phase position.
        var waiting: Set<BatchID> = []
        var waitingPerPhase: [Int: Int] = [:]
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

extension SchedulingIndex {
    /// Phase position × stride + batch index: the lowest phase first, then the lowest batch.
    static func phaseFirstKey(_ p: Int, _ id: BatchID, _ plan: RunPlan) -> Int { p * (plan.batchCount + 1) + id.index }

    /// The same with the phases counted from the last: the furthest along its chain first, then the lowest batch.
    static func chainKey(_ p: Int, _ id: BatchID, _ plan: RunPlan) -> Int {
        (plan.phases.count - 1 - p) * (plan.batchCount + 1) + id.index
    }

    static func batchID(phaseFirstKey key: Int, _ plan: RunPlan) -> BatchID {
        let stride = plan.batchCount + 1
        return BatchID(run: plan.run, phase: plan.phases[key / stride].id, index: key % stride)
    }

    static func batchID(chainKey key: Int, _ plan: RunPlan) -> BatchID {
        let stride = plan.batchCount + 1
        return BatchID(run: plan.run, phase: plan.phases[plan.phases.count - 1 - key / stride].id, index: key % stride)
    }
}

extension SchedulingIndex.Run {
    /// The first batch of `heap` still queued; stale entries on top are dropped.
    mutating func first(_ heap: WritableKeyPath<Self, MinHeap<Int>>, _ id: (Int) -> BatchID) -> BatchID? {
        while let key = self[keyPath: heap].min {
            let candidate = id(key)
            if queued.contains(candidate) { return candidate }
            self[keyPath: heap].popMin()
        }
        return nil
    }

    /// The batch that takes the next free slot, in `plan`'s order (see ``SchedulingOrder``);
    /// it stays queued until the scheduler takes it.
    mutating func next(_ plan: RunPlan, active: Int) -> BatchID? {
        guard let longest = first(\.ready, { SchedulingIndex.batchID(phaseFirstKey: $0, plan) }) else { return nil }
        guard plan.order == .chain,
              let furthest = first(\.readyByChain, { SchedulingIndex.batchID(chainKey: $0, plan) }),
              furthest != longest, let p = plan.phaseIndex(longest.phase) else { return longest }
        let due = SchedulingOrder.longestChainIsDue(waiting: waiting.count, active: active, concurrency: plan.concurrency,
                                                    chainLength: plan.phases.count - p,
                                                    waitingInPhase: waitingPerPhase[p] ?? 0)
        return due ? longest : furthest
    }
}

extension WatcherState {
    /// The next batch of `run` to take a free slot, in its plan's order; nil when none is queued.
    mutating func nextQueued(_ run: String, _ plan: RunPlan) -> BatchID? {
        let active = activeCount(run: run)
        return index.runs[run]?.next(plan, active: active)
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

    /// Brings the index up to date with batch `id` (and the batch that depends on it); during
    /// a replay (``beginReplay()``) nothing: the index is built once at its end.
    mutating func refresh(_ id: BatchID) {
        guard !indexDeferred else { return }
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
        let waiting = b.state == .pending || b.state == .retryWait
        let p = plan.phaseIndex(id.phase)
        withRun(id.run) { run in
            if active { run.active.insert(id) } else { run.active.remove(id) }
            if open { run.open.insert(id) } else { run.open.remove(id) }
            if let p {
                if waiting {
                    if run.waiting.insert(id).inserted { run.waitingPerPhase[p, default: 0] += 1 }
                } else if run.waiting.remove(id) != nil {
                    run.waitingPerPhase[p, default: 1] -= 1
                }
                if ready, run.queued.insert(id).inserted {
                    run.ready.push(SchedulingIndex.phaseFirstKey(p, id, plan))
                    run.readyByChain.push(SchedulingIndex.chainKey(p, id, plan))
                }
            }
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
        guard !indexDeferred else { return }
        index.runs[run] = nil
        guard let plan = plans[run] else { return }
        for id in plan.batchIDs { refresh(id) }
    }
}

extension WatcherState {
    /// From here on, folded records (`apply`, `add`) change the runs and batches only, not the
    /// scheduling index: a replay of a long log would otherwise update it for every record.
    public mutating func beginReplay() { indexDeferred = true }

    /// The end of a replay: the scheduling index is built once from the batches as they are.
    /// Nothing is scheduled before it.
    public mutating func endReplay() {
        indexDeferred = false
        index = SchedulingIndex()
        for run in plans.keys.sorted() { rebuildIndex(run: run) }
    }
}
