import WatcherCore

/// `"rules": "lego_pairs"` (phase 3): ``CourseRules/legoPairs(items:knownWordsBefore:)``, where
/// the known words are those of the LEGOs of the phase's seeds merged from earlier batches.
public struct LegoPairsRule: RuleSet {
    public init() {}
    public var name: String { "lego_pairs" }
    public var needs: RuleContext.Needs { .earlierItems }
    public func check(_ items: [BatchItem], context: RuleContext) -> [ValidationError] {
        var known: Set<String> = []
        for seed in context.earlierItems { known.formUnion(CourseRules.targetWords(ofSeedItem: seed)) }
        return CourseRules.legoPairs(items: items, knownWordsBefore: known)
    }
}
