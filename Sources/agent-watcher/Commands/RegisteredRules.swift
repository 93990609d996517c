import DemoCourse
import WatcherCore

/// The rule sets the daemons this executable starts know (`"rules"` in a phase): the demo
/// course's `seed_pairs`, `lego_pairs` and `lego_baskets`. Another course adds its own here.
enum RegisteredRules {
    static let registry: RuleRegistry = DemoCourse.rules
}
