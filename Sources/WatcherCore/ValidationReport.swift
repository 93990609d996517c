/// One problem found in a batch output, addressed to the item it concerns.
public struct ValidationError: Equatable, Hashable, Sendable {
    /// A short machine name, see ``ValidationErrorType``.
    public var type: String
    /// The item id (e.g. "S0003", "S0001L02"); nil for batch-wide problems.
    public var item: String?
    public var message: String
    /// What the agent should do about it.
    public var suggestion: String?

    public init(type: String, item: String? = nil, message: String, suggestion: String? = nil) {
        self.type = type
        self.item = item
        self.message = message
        self.suggestion = suggestion
    }
}

/// The error types produced by the built-in checks (rule sets add their own).
public enum ValidationErrorType {
    public static let invalidJSON = "invalid_json"
    public static let missingContainer = "missing_container"
    public static let missingItem = "missing_item"
    public static let extraItem = "extra_item"
    public static let duplicateItem = "duplicate_item"
    public static let invalidItem = "invalid_item"
    public static let emptyField = "empty_field"
    public static let missingField = "missing_field"
    public static let conflict = "conflict"
    public static let external = "external"
    public static let noOutput = "no_output"
}

/// The outcome of validating one batch output:
/// `{"valid", "errors": [{"type", "item", "message", "suggestion"}], "failedItems", "stats"}`.
public struct ValidationReport: Equatable, Sendable {
    public var valid: Bool
    public var errors: [ValidationError]
    /// The ids named by `errors`, sorted and unique.
    public var failedItems: [String]
    /// Counters, e.g. `items`, `expected`.
    public var stats: [String: Int]

    public init(valid: Bool, errors: [ValidationError], failedItems: [String], stats: [String: Int]) {
        self.valid = valid
        self.errors = errors
        self.failedItems = failedItems
        self.stats = stats
    }

    /// A report whose `valid` and `failedItems` follow from `errors`.
    public static func from(errors: [ValidationError], stats: [String: Int] = [:]) -> ValidationReport {
        ValidationReport(
            valid: errors.isEmpty,
            errors: errors,
            failedItems: Array(Set(errors.compactMap(\.item))).sorted(),
            stats: stats)
    }

    /// A valid report with no errors.
    public static let passed = ValidationReport.from(errors: [])

    /// This report's errors followed by `other`'s; stats are added up.
    public func merged(with other: ValidationReport) -> ValidationReport {
        ValidationReport.from(
            errors: errors + other.errors,
            stats: stats.merging(other.stats, uniquingKeysWith: +))
    }

    /// The errors as a list for a retry prompt, one line per error:
    ///
    ///     - S0003 [uncovered_word]: target word "x" is not covered ... Suggestion: add a LEGO ...
    ///     - [invalid_json]: line 3, column 14: expected ',' or '}' after object member
    ///
    /// With `items`, only errors about those items are listed, plus the
    /// errors that concern no item (they concern the whole batch).
    /// Line breaks inside messages are replaced by spaces.
    public func feedback(forItems items: [String]? = nil) -> String {
        let wanted = items.map(Set.init)
        var lines: [String] = []
        for error in errors {
            if let wanted, let item = error.item, !wanted.contains(item) { continue }
            var line = "- "
            if let item = error.item { line += "\(item) " }
            line += "[\(error.type)]: \(Self.oneLine(error.message))"
            if let suggestion = error.suggestion, !suggestion.isEmpty {
                line += " Suggestion: \(Self.oneLine(suggestion))"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    private static func oneLine(_ text: String) -> String {
        guard text.contains(where: \.isNewline) else { return text }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
