/// The rule sets a daemon knows, by name. The engine knows none of its own: the executable
/// registers them (the demo course's at start) and hands the registry to the daemon, which
/// checks each spec's `rules` against ``names`` and runs the named set on every batch.
public struct RuleRegistry: Sendable {
    private var sets: [String: any RuleSet] = [:]

    /// Later sets replace earlier ones of the same name.
    public init(_ ruleSets: [any RuleSet] = []) {
        for set in ruleSets { sets[set.name] = set }
    }

    public var names: Set<String> { Set(sets.keys) }

    public subscript(name: String) -> (any RuleSet)? { sets[name] }

    public mutating func register(_ set: any RuleSet) { sets[set.name] = set }
}
