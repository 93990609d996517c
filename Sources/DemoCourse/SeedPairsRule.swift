import WatcherCore

/// `"rules": "seed_pairs"` (phase 1): ``CourseRules/seedPairs(items:)``.
public struct SeedPairsRule: RuleSet {
    public init() {}
    public var name: String { "seed_pairs" }
    public var needs: RuleContext.Needs { [] }
    public func check(_ items: [BatchItem], context: RuleContext) -> [ValidationError] {
        CourseRules.seedPairs(items: items)
    }
}
