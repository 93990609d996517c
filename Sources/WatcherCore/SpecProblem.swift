/// One thing wrong with a pipeline spec: the key path (`phases[0].output.strategy`, "" for
/// the whole file), what was expected, and where in the file, when known.
public struct SpecProblem: Equatable, Sendable, CustomStringConvertible {
    public var key: String
    public var message: String
    public var position: JSONTextPosition?

    public init(key: String, message: String, position: JSONTextPosition? = nil) {
        self.key = key
        self.message = message
        self.position = position
    }

    /// `key: message`, without the position.
    public var summary: String { key.isEmpty ? message : "\(key): \(message)" }

    /// `key: message (line 3, column 14)`.
    public var description: String {
        guard let position else { return summary }
        return "\(summary) (line \(position.line), column \(position.column))"
    }

    /// Whether this problem concerns `other` or something inside it (`phases[0]` covers
    /// `phases[0].output.file`).
    func isInside(_ other: String) -> Bool {
        guard key.hasPrefix(other) else { return false }
        let rest = key.dropFirst(other.count)
        return other.isEmpty || rest.isEmpty || rest.first == "." || rest.first == "["
    }
}

/// Every problem found in a pipeline spec, in key order.
public struct SpecProblems: Error, Equatable, Sendable, CustomStringConvertible {
    public var problems: [SpecProblem]
    public init(_ problems: [SpecProblem]) { self.problems = problems }
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
