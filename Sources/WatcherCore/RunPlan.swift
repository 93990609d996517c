/// What the core needs to know of a run to drive it: its phases in order, how many batches
/// each has, and the limits. Built by the shell from a `PipelineSpec` and the item count.
public struct RunPlan: Equatable, Sendable {
    public var run: String
    public var phases: [Phase]
    public var itemCount: Int
    public var batchSize: Int
    public var concurrency: Int
    public var settleMilliseconds: Int
    public var killGraceSeconds: Double
    public var backoff: PipelineSpec.Backoff

    public struct Phase: Equatable, Sendable {
        public var id: String
        public var maxAttempts: Int
        public var timeoutSeconds: Double
        public init(id: String, maxAttempts: Int = 3, timeoutSeconds: Double = 600) {
            self.id = id
            self.maxAttempts = maxAttempts
            self.timeoutSeconds = timeoutSeconds
        }
    }

    public init(run: String, phases: [Phase], itemCount: Int, batchSize: Int = 20, concurrency: Int = 2,
                settleMilliseconds: Int = 200, killGraceSeconds: Double = 5,
                backoff: PipelineSpec.Backoff = .init()) {
        self.run = run
        self.phases = phases
        self.itemCount = itemCount
        self.batchSize = max(1, batchSize)
        self.concurrency = max(1, concurrency)
        self.settleMilliseconds = settleMilliseconds
        self.killGraceSeconds = killGraceSeconds
        self.backoff = backoff
    }

    public init(spec: PipelineSpec, itemCount: Int) {
        self.init(run: spec.run,
                  phases: spec.phases.map {
                      Phase(id: $0.id, maxAttempts: $0.maxAttempts ?? spec.maxAttempts,
                            timeoutSeconds: $0.timeoutSeconds ?? spec.timeoutSeconds)
                  },
                  itemCount: itemCount, batchSize: spec.batchSize, concurrency: spec.concurrency,
                  settleMilliseconds: spec.settleMilliseconds, killGraceSeconds: spec.killGraceSeconds,
                  backoff: spec.backoff)
    }

    public var batchCount: Int { (itemCount + batchSize - 1) / batchSize }

    /// Item positions (0-based, half-open) of batch `index` (1-based).
    public func itemRange(ofBatch index: Int) -> Range<Int> {
        let start = (index - 1) * batchSize
        return start..<min(itemCount, start + batchSize)
    }

    public func phaseIndex(_ id: String) -> Int? { phases.firstIndex { $0.id == id } }
    public func phase(_ id: String) -> Phase? { phases.first { $0.id == id } }

    /// Every batch of the run, lowest phase first, then lowest batch: the scheduling order.
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
