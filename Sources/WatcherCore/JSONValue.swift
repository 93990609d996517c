/// A JSON value as parsed by ``JSONParser``.
///
/// Objects keep their members in document order (and keep duplicate keys, if
/// a document has them); ``subscript(key:)`` returns the first member with the
/// key. Equality compares objects as unordered collections of members, so two
/// documents that differ only in key order or formatting are equal.
///
/// Numbers are held as `Double`. Integers up to 2^53 round-trip exactly; the
/// original number text is not kept.
///
/// The enum is not marked `indirect`: the recursive cases already live in
/// heap-allocated arrays, and an extra box per value would slow parsing down.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])
}

// MARK: - Accessors

extension JSONValue {
    /// The first member named `key`, if this is an object that has one.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key == key {
            return member.value
        }
        return nil
    }

    /// The element at `index`, if this is an array that long.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The number as an `Int`, if it is one exactly (`3` or `3.0`, not `3.5`).
    public var intValue: Int? {
        guard case .number(let value) = self, let exact = Int(exactly: value) else { return nil }
        return exact
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: [(key: String, value: JSONValue)]? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The kind with its article, for error messages: "an object", "a string", "null".
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .object, .array: "an \(kindName)"
        default: "a \(kindName)"
        }
    }

    /// A short name of the value's kind, for error messages: "object", "array", ...
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

// MARK: - Equality

extension JSONValue: Equatable {
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)): return membersEqual(a, b)
        default: return false
        }
    }

    /// Compares members ignoring their order. Duplicate keys are compared in
    /// their relative document order.
    private static func membersEqual(
        _ a: [(key: String, value: JSONValue)],
        _ b: [(key: String, value: JSONValue)]
    ) -> Bool {
        guard a.count == b.count else { return false }
        // Fast path: same order.
        var sameOrder = true
        for index in a.indices where a[index].key != b[index].key {
            sameOrder = false
            break
        }
        if sameOrder {
            for index in a.indices where a[index].value != b[index].value {
                return false
            }
            return true
        }
        func sortedIndices(_ members: [(key: String, value: JSONValue)]) -> [Int] {
            members.indices.sorted { x, y in
                let kx = members[x].key, ky = members[y].key
                return kx != ky ? kx < ky : x < y
            }
        }
        let orderA = sortedIndices(a), orderB = sortedIndices(b)
        for (ia, ib) in zip(orderA, orderB) {
            guard a[ia].key == b[ib].key, a[ia].value == b[ib].value else { return false }
        }
        return true
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Keeps the literal's key order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(elements.map { (key: $0.0, value: $0.1) })
    }
}

// MARK: - Serialisation

extension JSONValue: CustomStringConvertible {
    /// The compact serialisation, as a `String`.
    public var description: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}

extension JSONValue {
    /// Compact, deterministic JSON text: no whitespace, object members in
    /// stored order, strings escaped as RFC 8259 requires (`"`, `\`, and
    /// control characters; everything else is written as raw UTF-8).
    /// Integral numbers of magnitude below 1e15 are written without a fraction
    /// (`7`, not `7.0`); NaN and infinities, which JSON cannot represent, as `null`.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(into: &out)
        return out
    }

    /// Appends the compact serialisation to `out`.
    public func write(into out: inout [UInt8]) {
        switch self {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value):
            JSONValue.writeNumber(value, into: &out)
        case .string(let value):
            JSONValue.writeString(value, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeNumber(_ value: Double, into out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        if value.rounded(.towardZero) == value, abs(value) < 1e15 {
            out.append(contentsOf: String(Int64(value)).utf8)
        } else {
            // Swift prints the shortest text that round-trips, e.g. "0.1",
            // "1e-05", "1e+20": all valid JSON numbers.
            out.append(contentsOf: value.description.utf8)
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `value` as a quoted, escaped JSON string.
    public static func writeString(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\\"))
            case 0x0A:
                out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D:
                out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09:
                out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x08:
                out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
            case 0x0C:
                out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0x00..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
