/// How a phase's batch items are merged into the run's main output file.
public enum MergeStrategy: String, Sendable, CaseIterable {
    /// The main file's container is a JSON object keyed by item id.
    case object
    /// The main file's container is a JSON array of objects, each carrying its id
    /// in the phase's `idField`; items stay in batch order.
    case array
    /// The main file is JSON Lines: one compact object per line, id in `idField`.
    case jsonl
}
