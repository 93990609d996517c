import WatcherCore

/// `"rules": "lego_baskets"` (phase 5): ``CourseRules/legoBaskets(items:inputSeeds:)`` over the
/// batch's input seeds (phase 3's merged items of this batch).
public struct LegoBasketsRule: RuleSet {
    public init() {}
    public var name: String { "lego_baskets" }
    public var needs: RuleContext.Needs { .inputItems }
    public func check(_ items: [BatchItem], context: RuleContext) -> [ValidationError] {
        CourseRules.legoBaskets(items: items, inputSeeds: context.inputItems.map(\.value))
    }
}
