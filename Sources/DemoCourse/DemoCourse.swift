import WatcherCore

/// The demo course (spa_for_eng: translation, LEGO decomposition, practice baskets): its rule
/// sets, its embedded data (`Resources/demo`), the simulated agent and `agent-watcher demo`.
public enum DemoCourse {
    /// `seed_pairs`, `lego_pairs` and `lego_baskets`, as the executable registers them at start.
    public static let rules = RuleRegistry([SeedPairsRule(), LegoPairsRule(), LegoBasketsRule()])
}

extension ValidationErrorType {
    public static let uncoveredWord = "uncovered_word"
    public static let missingBasket = "missing_basket"
    public static let emptyBasket = "empty_basket"
}
