/// A report as JSON, as written beside a rejected batch file (`<name>.errors.json`):
/// `{"valid", "errors": [{"type", "item", "message", "suggestion"}], "failedItems", "stats"}`.
extension ValidationReport {
    public var json: JSONValue {
        let errors: [JSONValue] = self.errors.map { e in
            var members: [(key: String, value: JSONValue)] = [("type", .string(e.type))]
            if let item = e.item { members.append(("item", .string(item))) }
            members.append(("message", .string(e.message)))
            if let suggestion = e.suggestion { members.append(("suggestion", .string(suggestion))) }
            return .object(members)
        }
        return .object([
            ("valid", .bool(valid)),
            ("errors", .array(errors)),
            ("failedItems", .array(failedItems.map { .string($0) })),
            ("stats", .object(stats.keys.sorted().map { (key: $0, value: .number(Double(stats[$0]!))) })),
        ])
    }

    /// Reads a report written by ``json``, naming the first member that is missing or wrong.
    public static func parse(_ bytes: [UInt8]) -> Result<ValidationReport, ValidationReportError> {
        let v: JSONValue
        do { v = try JSONParser.parse(bytes) } catch { return .failure(.init("not valid JSON: \(error)")) }
        guard let valid = v["valid"]?.boolValue else { return .failure(.init("\"valid\": expected true or false")) }
        guard let list = v["errors"]?.arrayValue else { return .failure(.init("\"errors\": expected an array")) }
        var errors: [ValidationError] = []
        for (i, e) in list.enumerated() {
            guard let type = e["type"]?.stringValue, let message = e["message"]?.stringValue else {
                return .failure(.init("errors[\(i)]: expected an object with string \"type\" and \"message\""))
            }
            errors.append(ValidationError(type: type, item: e["item"]?.stringValue, message: message,
                                          suggestion: e["suggestion"]?.stringValue))
        }
        let failed = (v["failedItems"]?.arrayValue ?? []).compactMap(\.stringValue)
        var stats: [String: Int] = [:]
        for m in v["stats"]?.objectValue ?? [] { if let n = m.value.intValue { stats[m.key] = n } }
        return .success(ValidationReport(valid: valid, errors: errors, failedItems: failed, stats: stats))
    }
}

/// Why a stored report could not be read.
public struct ValidationReportError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
