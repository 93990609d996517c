extension RunPlan {
    /// The plan a spec asks for, over `itemCount` items (one segment: the log may hold more).
    public init(spec: PipelineSpec, itemCount: Int) {
        self.init(run: spec.run,
                  phases: spec.phases.map {
                      Phase(id: $0.id, maxAttempts: $0.maxAttempts ?? spec.maxAttempts,
                            timeoutSeconds: $0.timeoutSeconds ?? spec.timeoutSeconds,
                            transient: spec.agent(for: $0)?.transient ?? .defaults)
                  },
                  itemCount: itemCount, batchSize: spec.batchSize, concurrency: spec.concurrency,
                  settleMilliseconds: spec.settleMilliseconds, killGraceSeconds: spec.killGraceSeconds,
                  backoff: spec.backoff, transientBackoff: spec.transientBackoff,
                  breakerThreshold: spec.circuitBreaker.consecutiveFailures)
        budget = spec.budget
        order = spec.order
    }
}
