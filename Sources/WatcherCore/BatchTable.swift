/// Every batch of the watcher by id, as a dictionary would hold them: per run, one array per
/// phase indexed by batch number. A lookup is a comparison of a few names (runs and phases are
/// few) and an index, never a hash of two strings; a batch costs its own size, not a bucket of a
/// hash table kept at most three quarters full. A long replay looks a batch up for every record.
///
/// An id no plan would make (a batch number below 1, or far past the run's other batches: a
/// damaged record) is kept aside in a dictionary, so no record can make the arrays huge.
public struct BatchTable: Sequence, Equatable, Sendable {
    struct Phase: Sendable {
        var id: String
        var slots: [Batch?] = []
    }

    struct Run: Sendable {
        var name: String
        var phases: [Phase] = []
    }

    private var runs: [Run] = []
    private var others: [BatchID: Batch] = [:]
    /// How many batches the table holds.
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Where `id` would be kept in the arrays: run, phase, slot; nil for an id kept aside.
    private func place(_ id: BatchID) -> (r: Int, p: Int, s: Int)? {
        guard id.index >= 1 else { return nil }
        for r in runs.indices where runs[r].name == id.run {
            for p in runs[r].phases.indices where runs[r].phases[p].id == id.phase {
                let s = id.index - 1
                return s < runs[r].phases[p].slots.count ? (r, p, s) : nil
            }
            return nil
        }
        return nil
    }

    /// Makes room for `id` in the arrays when it is at most a little past the phase's last batch
    /// (plans number their batches 1, 2, 3 ...); nil when it is to be kept aside.
    private mutating func makePlace(_ id: BatchID) -> (r: Int, p: Int, s: Int)? {
        if let at = place(id) { return at }
        guard id.index >= 1 else { return nil }
        let r = runs.firstIndex { $0.name == id.run } ?? { runs.append(Run(name: id.run)); return runs.count - 1 }()
        let p = runs[r].phases.firstIndex { $0.id == id.phase }
            ?? { runs[r].phases.append(Phase(id: id.phase)); return runs[r].phases.count - 1 }()
        let have = runs[r].phases[p].slots.count
        guard id.index <= 2 * have + 1024 else { return nil }
        runs[r].phases[p].slots.append(contentsOf: repeatElement(nil, count: id.index - have))
        return (r, p, id.index - 1)
    }

    public subscript(id: BatchID) -> Batch? {
        get {
            if let at = place(id), let b = runs[at.r].phases[at.p].slots[at.s] { return b }
            return others.isEmpty ? nil : others[id]
        }
        set {
            let old = self[id]
            count += (newValue == nil ? 0 : 1) - (old == nil ? 0 : 1)
            if newValue != nil, let at = makePlace(id) {
                runs[at.r].phases[at.p].slots[at.s] = newValue
                if !others.isEmpty { others[id] = nil }
            } else if let at = place(id), runs[at.r].phases[at.p].slots[at.s] != nil {
                runs[at.r].phases[at.p].slots[at.s] = nil
            } else {
                others[id] = newValue
            }
        }
        _modify {
            // A known batch is changed where it is kept, not copied out and back.
            if let at = place(id), runs[at.r].phases[at.p].slots[at.s] != nil {
                yield &runs[at.r].phases[at.p].slots[at.s]
                if runs[at.r].phases[at.p].slots[at.s] == nil { count -= 1 }
            } else {
                var value = self[id]
                yield &value
                self[id] = value
            }
        }
    }

    public struct Iterator: IteratorProtocol {
        let table: BatchTable
        var r = 0, p = 0, s = 0
        var rest: Dictionary<BatchID, Batch>.Iterator

        init(_ table: BatchTable) {
            self.table = table
            rest = table.others.makeIterator()
        }

        public mutating func next() -> (key: BatchID, value: Batch)? {
            while r < table.runs.count {
                let phases = table.runs[r].phases
                while p < phases.count {
                    let slots = phases[p].slots
                    while s < slots.count {
                        s += 1
                        if let b = slots[s - 1] { return (b.id, b) }
                    }
                    p += 1
                    s = 0
                }
                r += 1
                p = 0
            }
            return rest.next()
        }
    }

    public func makeIterator() -> Iterator { Iterator(self) }
    public var underestimatedCount: Int { count }

    /// The batches, in no particular order (as a dictionary's values).
    public var values: LazyMapSequence<BatchTable, Batch> { lazy.map(\.value) }
    /// The ids, in no particular order (as a dictionary's keys).
    public var keys: LazyMapSequence<BatchTable, BatchID> { lazy.map(\.key) }

    public func mapValues<T>(_ transform: (Batch) throws -> T) rethrows -> [BatchID: T] {
        var out: [BatchID: T] = [:]
        out.reserveCapacity(count)
        for (id, b) in self { out[id] = try transform(b) }
        return out
    }

    /// The same batches under the same ids, however they are laid out.
    public static func == (a: BatchTable, b: BatchTable) -> Bool {
        a.count == b.count && a.allSatisfy { b[$0.key] == $0.value }
    }
}
