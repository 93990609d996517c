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
