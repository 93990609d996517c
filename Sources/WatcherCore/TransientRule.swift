/// What marks an agent's failure as its CLI's service failing (rate limit, overload), not the
/// batch's: exit codes, and regular expressions over the tail of the agent's log.
public struct TransientRule: Equatable, Sendable {
    public var exitCodes: [Int]
    public var patterns: [String]

    public init(exitCodes: [Int] = [], patterns: [String]) {
        self.exitCodes = exitCodes
        self.patterns = patterns
    }

    /// The common CLIs' rate-limit and overload answers.
    public static let defaultPatterns = [#"\b429\b"#, #"\b529\b"#, #"(?i)rate[ _-]?limit"#, #"(?i)overloaded"#, #"(?i)quota"#]
    public static let defaults = TransientRule(patterns: defaultPatterns)

    /// The pattern (or `exit N`) that matched, if the failure is transient. A pattern that does
    /// not compile never matches (the spec check reports it before anything runs).
    public func match(exitCode: Int?, logTail: String) -> String? {
        if let exitCode, exitCodes.contains(exitCode) { return "exit \(exitCode)" }
        guard !logTail.isEmpty else { return nil }
        for p in patterns {
            guard let regex = try? Regex(p) else { continue } // checked at load: see PipelineSpec problems
            if logTail.contains(regex) { return p }
        }
        return nil
    }
}
