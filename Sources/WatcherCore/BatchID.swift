/// Names one batch: batch `index` (1-based) of phase `phase` of run `run`.
public struct BatchID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let run: String
    public let phase: String
    public let index: Int

    public init(run: String, phase: String, index: Int) {
        self.run = run
        self.phase = phase
        self.index = index
    }

    /// Cheap, for the dictionaries and sets keyed by batch that every record of a replay looks
    /// up: the index and, of each name, its length and first and last bytes, instead of every
    /// byte of both names through the hasher. Equal ids hash equally; ids that differ only
    /// inside names of the same length and ends share a hash and are told apart by `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(index &* 0x1_0000_0000 &+ Self.shape(phase) &* 0x1_0000 &+ Self.shape(run))
    }

    private static func shape(_ name: String) -> Int {
        let u = name.utf8
        guard let first = u.first, let last = u.last else { return 0 }
        return (u.count & 0xFF) << 8 ^ Int(first) << 4 ^ Int(last)
    }

    /// The file name an agent writes in `mailbox/<run>/outbox/`: `<phase>_batch_<k>.json`.
    public var outputFileName: String { "\(phase)_batch_\(index).json" }

    public var description: String { "\(run)/\(phase)/\(index)" }

    /// Orders by run name, then batch index; phase order needs the spec (see `RunPlan`).
    public static func < (a: BatchID, b: BatchID) -> Bool {
        (a.run, a.index, a.phase) < (b.run, b.index, b.phase)
    }

    /// Parses `<phase>_batch_<k>.json`; `nil` for any other name.
    public static func parseOutputFileName(_ name: String, run: String) -> BatchID? {
        guard name.hasSuffix(".json") else { return nil }
        let stem = name.dropLast(5)
        let marker = "_batch_"
        var cut: Substring.Index?
        var i = stem.endIndex
        while i > stem.startIndex {
            i = stem.index(before: i)
            if stem[i...].hasPrefix(marker) { cut = i; break }
        }
        guard let cut else { return nil }
        let phase = String(stem[..<cut])
        let number = stem[stem.index(cut, offsetBy: marker.count)...]
        guard !phase.isEmpty, let k = Int(number), k >= 1, String(k) == number else { return nil }
        return BatchID(run: run, phase: phase, index: k)
    }
}
