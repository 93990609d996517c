/// What the core needs to know of a run to drive it: its phases in order, how many batches
/// each has, and the limits. Built by the shell from a `PipelineSpec` and the item count.
public struct RunPlan: Equatable, Sendable {
    public var run: String
    public var phases: [Phase]
    /// The run's items in order; batches are cut from each segment separately, so items
    /// appended to a started run (a new segment, `run.extended`) never change a logged batch.
    public var segments: [Int]
    public var batchSize: Int
    public var concurrency: Int
    public var settleMilliseconds: Int
    public var killGraceSeconds: Double
    public var backoff: PipelineSpec.Backoff
    /// The run-wide wait after a transient failure: doubles per consecutive one.
    public var transientBackoff: PipelineSpec.Backoff
    /// Consecutive agent crashes or spawn failures that pause the run; 0: never.
    public var breakerThreshold: Int
    /// The run's spending limits (`budget`); nil: none.
    public var budget: PipelineSpec.Budget? = nil
    /// Which ready batch takes a free slot first (`order`).
    public var order: SchedulingOrder = .chain

    public struct Phase: Equatable, Sendable {
        public var id: String
        public var maxAttempts: Int
        public var timeoutSeconds: Double
        /// What marks an agent's failure as the service's, not the batch's.
        public var transient: PipelineSpec.Transient
        public init(id: String, maxAttempts: Int = 3, timeoutSeconds: Double = 600, transient: PipelineSpec.Transient = .defaults) {
            self.id = id
            self.maxAttempts = maxAttempts
            self.timeoutSeconds = timeoutSeconds
            self.transient = transient
        }
    }

    public init(run: String, phases: [Phase], itemCount: Int, batchSize: Int = 20, concurrency: Int = 2,
                settleMilliseconds: Int = 200, killGraceSeconds: Double = 5,
                backoff: PipelineSpec.Backoff = .init(),
                transientBackoff: PipelineSpec.Backoff = .init(initialSeconds: 5, multiplier: 2, maxSeconds: 300),
                breakerThreshold: Int = 3) {
        self.run = run
        self.phases = phases
        self.segments = [itemCount]
        self.batchSize = max(1, batchSize)
        self.concurrency = max(1, concurrency)
        self.settleMilliseconds = settleMilliseconds
        self.killGraceSeconds = killGraceSeconds
        self.backoff = backoff
        self.transientBackoff = transientBackoff
        self.breakerThreshold = breakerThreshold
    }

    public var itemCount: Int { segments.reduce(0, +) }

    public var batchCount: Int { segments.reduce(0) { $0 + Self.batches(in: $1, size: batchSize) } }

    static func batches(in items: Int, size: Int) -> Int { (items + size - 1) / size }

    /// Item positions (0-based, half-open) of batch `index` (1-based).
    public func itemRange(ofBatch index: Int) -> Range<Int> {
        var first = 0, batch = 1
        for count in segments {
            let n = Self.batches(in: count, size: batchSize)
            if index < batch + n {
                let start = first + (index - batch) * batchSize
                return start..<min(first + count, start + batchSize)
            }
            first += count
            batch += n
        }
        return itemCount..<itemCount
    }

    /// The batch (1-based) holding the item at `position` (0-based).
    public func batch(ofItemAt position: Int) -> Int? {
        var first = 0, batch = 1
        for count in segments {
            if position < first + count { return batch + (position - first) / batchSize }
            first += count
            batch += Self.batches(in: count, size: batchSize)
        }
        return nil
    }

    public func phaseIndex(_ id: String) -> Int? { phases.firstIndex { $0.id == id } }
    public func phase(_ id: String) -> Phase? { phases.first { $0.id == id } }

    /// Every batch of the run, lowest phase first, then lowest batch (the `phase-first` order).
    public var batchIDs: [BatchID] {
        let n = batchCount
        return phases.flatMap { p in (0..<n).map { BatchID(run: run, phase: p.id, index: $0 + 1) } }
    }

    /// The batch this one waits for: the same batch index of the previous phase.
    public func dependency(of id: BatchID) -> BatchID? {
        guard let i = phaseIndex(id.phase), i > 0 else { return nil }
        return BatchID(run: run, phase: phases[i - 1].id, index: id.index)
    }

    /// The batch that waits for this one.
    public func dependant(of id: BatchID) -> BatchID? {
        guard let i = phaseIndex(id.phase), i + 1 < phases.count else { return nil }
        return BatchID(run: run, phase: phases[i + 1].id, index: id.index)
    }
}
