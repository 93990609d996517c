/// The built-in checks every batch output goes through, whatever the phase.
///
/// Accepted batch file shapes:
/// - `object` strategy: a JSON object holding the items under `itemsKey`
///   (the same key as in the main file), e.g.
///   `{"translations": {"S0021": {...}, "S0022": {...}}}`, other top-level
///   members ignored; or a bare object keyed by item id, `{"S0021": {...}}`.
///   A top-level object without `itemsKey` is taken as bare, unless
///   `expectedIds` is given and none of its keys is an expected id: then it is
///   reported as `missing_container` (the agent probably misspelt the key).
/// - `array` strategy: `{"seeds": [{"seed_id": "S0021", ...}, ...]}` or a bare
///   top-level array; each element must be an object with a non-empty string
///   `idField`. Without an `idField`, element positions ("0", "1", ...) are the ids.
/// - `jsonl`: one JSON object per non-empty line, each with a string `idField`.
///
/// Checks: the text is JSON (`invalid_json`, with line and column), the
/// container is there (`missing_container`), items are well-formed
/// (`invalid_item`), ids are unique (`duplicate_item`), and with
/// `expectedIds`, none is missing (`missing_item`) and none is extra
/// (`extra_item`), each reported by id. An empty or blank file is `no_output`.
public enum BatchChecks {
    public static func check(
        bytes: [UInt8], strategy: MergeStrategy, itemsKey: String?, idField: String?, expectedIds: [String]?
    ) -> (report: ValidationReport, items: [BatchItem], parsed: JSONValue?) {
        if MergePlanner.isBlank(bytes) {
            let error = ValidationError(
                type: ValidationErrorType.noOutput, item: nil, message: "the output file is empty",
                suggestion: "Write the whole batch as one JSON document to the output path.")
            return (ValidationReport.from(errors: [error], stats: ["items": 0]), [], nil)
        }
        var errors: [ValidationError] = []
        let found: (items: [(id: String, raw: [UInt8], value: JSONValue)], parsed: JSONValue?)
        if strategy == .jsonl {
            found = lineItems(bytes, idField: idField, errors: &errors)
        } else {
            found = documentItems(bytes, strategy: strategy, itemsKey: itemsKey, idField: idField,
                                  expectedIds: expectedIds, errors: &errors)
        }

        // Unique ids: keep the first occurrence.
        var items: [BatchItem] = []
        items.reserveCapacity(found.items.count)
        var seen: Set<String> = []
        var reportedDuplicates: Set<String> = []
        for item in found.items {
            if seen.insert(item.id).inserted {
                items.append(BatchItem(id: item.id, raw: item.raw, value: item.value))
            } else if reportedDuplicates.insert(item.id).inserted {
                errors.append(ValidationError(
                    type: ValidationErrorType.duplicateItem, item: item.id,
                    message: "\(item.id) occurs more than once",
                    suggestion: "Give each item exactly one entry."))
            }
        }

        var stats = ["items": items.count]
        let containerMissing = errors.contains { $0.type == ValidationErrorType.missingContainer }
        if let expectedIds, found.parsed != nil, !containerMissing {
            stats["expected"] = expectedIds.count
            let expectedSet = Set(expectedIds)
            for id in expectedIds where !seen.contains(id) {
                errors.append(ValidationError(
                    type: ValidationErrorType.missingItem, item: id,
                    message: "\(id) is missing from the output",
                    suggestion: "Add an entry for \(id)."))
            }
            let span = describe(expectedIds)
            for item in items where !expectedSet.contains(item.id) {
                errors.append(ValidationError(
                    type: ValidationErrorType.extraItem, item: item.id,
                    message: "\(item.id) is not part of this batch (\(span))",
                    suggestion: "Remove \(item.id); write only this batch's items."))
            }
        }
        return (ValidationReport.from(errors: errors, stats: stats), items, found.parsed)
    }

    /// "expected S0021…S0040" / "expected S0001, S0002"
    static func describe(_ ids: [String]) -> String {
        if ids.isEmpty { return "this batch expects no items" }
        if ids.count <= 3 { return "expected \(ids.joined(separator: ", "))" }
        return "expected \(ids[0])…\(ids[ids.count - 1])"
    }

    static func invalidJSON(_ error: JSONParseError) -> ValidationError {
        ValidationError(
            type: ValidationErrorType.invalidJSON, item: nil,
            message: error.description,
            suggestion: "Write valid JSON (RFC 8259): fix the syntax at line \(error.line), column \(error.column).")
    }

    static func documentItems(
        _ bytes: [UInt8], strategy: MergeStrategy, itemsKey: String?, idField: String?,
        expectedIds: [String]?, errors: inout [ValidationError]
    ) -> (items: [(id: String, raw: [UInt8], value: JSONValue)], parsed: JSONValue?) {
        let parsed: JSONValue
        do throws(JSONParseError) {
            parsed = try JSONParser.parse(bytes)
        } catch {
            errors.append(invalidJSON(error))
            return ([], nil)
        }
        let keyed = strategy == .object
        let kindName = keyed ? "an object keyed by item id" : "an array of items"
        func missingContainer(_ message: String) -> ([(id: String, raw: [UInt8], value: JSONValue)], JSONValue?) {
            let shape: String
            if let itemsKey {
                let key = String(decoding: JSONValue.string(itemsKey).serialized(), as: UTF8.self)
                shape = keyed ? "{\(key): {\"<id>\": {...}, ...}}" : "{\(key): [{...}, ...]}"
            } else {
                shape = keyed ? "{\"<id>\": {...}, ...}" : "[{...}, ...]"
            }
            errors.append(ValidationError(
                type: ValidationErrorType.missingContainer, item: nil, message: message,
                suggestion: "Write the items as \(shape)."))
            return ([], parsed)
        }

        var containerValue = parsed
        var memberName: String?
        var scanned: Result<ScannedContainer, JSONScanError>
        if let itemsKey, case .object(let members) = parsed, let member = members.first(where: { $0.key == itemsKey }) {
            containerValue = member.value
            memberName = itemsKey
            scanned = MergePlanner.scan { () throws(JSONScanError) in
                try JSONScanner.members(ofTopLevelKey: itemsKey, in: bytes)
            }
            if case .failure(let error) = scanned, error.kind == .wrongKind || error.kind == .duplicateKey {
                if error.kind == .duplicateKey {
                    errors.append(ValidationError(
                        type: ValidationErrorType.invalidJSON, item: nil,
                        message: "line \(error.line), column \(error.column): \(error.message)",
                        suggestion: "Write the member \"\(itemsKey)\" once, holding all items."))
                    return ([], parsed)
                }
                return missingContainer("the member \"\(itemsKey)\" is \(member.value.kindDescription), expected \(kindName)")
            }
        } else {
            let bareMatches: Bool
            switch parsed {
            case .object(let members):
                bareMatches = keyed
                if keyed, let itemsKey, let expectedIds, !members.isEmpty {
                    let expected = Set(expectedIds)
                    if !members.contains(where: { expected.contains($0.key) }) {
                        let keys = members.prefix(5).map { "\"\($0.key)\"" }.joined(separator: ", ")
                        return missingContainer("no top-level member \"\(itemsKey)\" (found \(keys))")
                    }
                }
            case .array: bareMatches = !keyed
            default: bareMatches = false
            }
            guard bareMatches else {
                if let itemsKey {
                    return missingContainer("expected a top-level object whose member \"\(itemsKey)\" holds \(kindName), found \(parsed.kindName == "object" ? "an object without it" : parsed.kindDescription)")
                }
                return missingContainer("expected \(kindName) at the top level, found \(parsed.kindDescription)")
            }
            scanned = MergePlanner.scan { () throws(JSONScanError) in try JSONScanner.topLevel(in: bytes) }
        }
        let container: ScannedContainer
        switch scanned {
        case .success(let found): container = found
        case .failure(let error):
            // The parser accepted the text, so the scanner should too.
            errors.append(ValidationError(type: ValidationErrorType.invalidJSON, item: nil, message: error.description))
            return ([], parsed)
        }
        if (container.kind == .object) != keyed {
            if let memberName {
                return missingContainer("the member \"\(memberName)\" is \(containerValue.kindDescription), expected \(kindName)")
            }
            return missingContainer("expected \(kindName) at the top level, found \(containerValue.kindDescription)")
        }

        var items: [(id: String, raw: [UInt8], value: JSONValue)] = []
        items.reserveCapacity(container.items.count)
        switch containerValue {
        case .object(let members) where members.count == container.items.count:
            for (scannedItem, member) in zip(container.items, members) {
                guard !member.key.isEmpty else {
                    errors.append(ValidationError(
                        type: ValidationErrorType.invalidItem, item: nil,
                        message: "an item has an empty id (\"\" as key)", suggestion: "Key every item by its id."))
                    continue
                }
                items.append((member.key, Array(bytes[scannedItem.valueRange]), member.value))
            }
        case .array(let elements) where elements.count == container.items.count:
            for (position, (scannedItem, element)) in zip(container.items, elements).enumerated() {
                let raw = Array(bytes[scannedItem.valueRange])
                guard let idField else {
                    items.append((String(position), raw, element))
                    continue
                }
                if let id = itemId(element, idField: idField, label: "item \(position + 1)", errors: &errors) {
                    items.append((id, raw, element))
                }
            }
        default:
            errors.append(ValidationError(type: ValidationErrorType.invalidJSON, item: nil,
                                          message: "the container could not be read"))
        }
        return (items, parsed)
    }

    /// The element's id, or nil after reporting why it has none.
    static func itemId(_ element: JSONValue, idField: String, label: String, errors: inout [ValidationError]) -> String? {
        guard case .object = element else {
            errors.append(ValidationError(
                type: ValidationErrorType.invalidItem, item: nil,
                message: "\(label) is \(element.kindDescription), expected an object with a string \"\(idField)\"",
                suggestion: "Write each item as an object with its \"\(idField)\"."))
            return nil
        }
        guard let id = element[idField]?.stringValue, !id.isEmpty else {
            let found = element[idField].map { " (found \($0.kindDescription))" } ?? ""
            errors.append(ValidationError(
                type: ValidationErrorType.invalidItem, item: nil,
                message: "\(label) has no non-empty string \"\(idField)\"\(found)",
                suggestion: "Give every item its \"\(idField)\"."))
            return nil
        }
        return id
    }

    static func lineItems(
        _ bytes: [UInt8], idField: String?, errors: inout [ValidationError]
    ) -> (items: [(id: String, raw: [UInt8], value: JSONValue)], parsed: JSONValue?) {
        var items: [(id: String, raw: [UInt8], value: JSONValue)] = []
        var values: [JSONValue] = []
        var line = 1
        var lineStart = 0
        var counted = 0
        for range in JSONScanner.lines(in: bytes) {
            while counted < range.lowerBound {
                if bytes[counted] == JSONByte.newline {
                    line += 1
                    lineStart = counted + 1
                }
                counted += 1
            }
            let value: JSONValue
            do throws(JSONParseError) {
                value = try JSONParser.parse(bytes[range])
            } catch {
                var located = error
                located.offset += range.lowerBound
                located.line += line - 1
                located.column += range.lowerBound - lineStart  // leading blanks are one byte each
                errors.append(invalidJSON(located))
                continue
            }
            values.append(value)
            guard let idField else {
                items.append((String(line), Array(bytes[range]), value))
                continue
            }
            guard case .object = value else {
                errors.append(ValidationError(
                    type: ValidationErrorType.invalidItem, item: nil,
                    message: "line \(line) is \(value.kindDescription), expected an object with a string \"\(idField)\"",
                    suggestion: "Write one JSON object per line."))
                continue
            }
            if let id = itemId(value, idField: idField, label: "line \(line)", errors: &errors) {
                items.append((id, Array(bytes[range]), value))
            }
        }
        return (items, .array(values))
    }
}
