/// A trial on a part of a run (`run --batches 3-5 --phases 1,3`): only these batches are
/// started; the others stay `pending` (not failed, not skipped), and a later run without a
/// scope carries on with them. Pure.
public struct RunScope: Equatable, Sendable {
    /// Batch numbers, 1-based, inclusive; nil: every batch.
    public var batches: ClosedRange<Int>?
    /// Phase ids; nil: every phase.
    public var phases: Set<String>?

    public init(batches: ClosedRange<Int>? = nil, phases: Set<String>? = nil) {
        self.batches = batches
        self.phases = phases
    }

    public func contains(_ id: BatchID) -> Bool {
        (batches?.contains(id.index) ?? true) && (phases?.contains(id.phase) ?? true)
    }

    /// `3-5` or `5`; nil when it is not that shape or is empty.
    public static func parseBatches(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[parts.count - 1]),
              lo >= 1, lo <= hi else { return nil }
        return lo...hi
    }
}

extension WatcherState {
    /// Whether `run` has a scope and nothing more will happen inside it: every batch in it has
    /// ended, or waits for a batch outside it (which this scope never starts).
    public func scopeFinished(run: String) -> Bool {
        guard let scope = scope[run], let plan = plans[run] else { return false }
        for id in plan.batchIDs where scope.contains(id) {
            guard let b = batches[id] else { continue }
            if b.state.isTerminal { continue }
            if b.state == .pending, let dep = plan.dependency(of: id), !scope.contains(dep),
               batches[dep]?.state.satisfiesDependants != true { continue }
            return false
        }
        return true
    }

    /// Whether a batch may be started under the run's scope (no scope: every batch).
    func inScope(_ id: BatchID) -> Bool { scope[id.run]?.contains(id) ?? true }
}
