/// A phase's own rules (`"rules": "<name>"` in the spec), run on a batch's items after
/// ``BatchChecks``: a pure function of the parsed items and the context it asks for.
///
/// Every error should name the item it concerns, so a retry's prompt can list it.
public protocol RuleSet: Sendable {
    /// The name a spec gives in a phase's `rules`.
    var name: String { get }
    /// What the daemon must read for ``check(_:context:)`` (each costs a main-file read).
    var needs: RuleContext.Needs { get }
    func check(_ items: [BatchItem], context: RuleContext) -> [ValidationError]
}

/// What a rule set sees besides the batch's items: only what its ``RuleSet/needs`` asked for;
/// the rest is empty.
public struct RuleContext: Sendable {
    public struct Needs: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// The batch's input items: the run's items, or the input phase's merged items of this batch.
        public static let inputItems = Needs(rawValue: 1)
        /// This phase's items already merged from earlier batches, in main-file order.
        public static let earlierItems = Needs(rawValue: 2)
    }

    public var batch: BatchID
    public var inputItems: [BatchItem]
    public var earlierItems: [BatchItem]

    public init(batch: BatchID, inputItems: [BatchItem] = [], earlierItems: [BatchItem] = []) {
        self.batch = batch
        self.inputItems = inputItems
        self.earlierItems = earlierItems
    }
}
