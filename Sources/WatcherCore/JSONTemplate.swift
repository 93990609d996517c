/// Any JSON value inside a pipeline spec (a main file's initial content), kept as JSON text.
/// Decoding through `Codable` loses member order, so `SpecLoader` replaces `text` with the
/// member order of the spec file itself.
public struct JSONTemplate: Codable, Equatable, Sendable {
    public var text: [UInt8]

    public init(text: [UInt8]) { self.text = text }
    public init(_ string: String) { self.text = Array(string.utf8) }

    public init(from decoder: any Decoder) throws {
        text = try AnyJSON(from: decoder).serialized()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(String(decoding: text, as: UTF8.self))
    }
}

/// A JSON value decoded through `Codable` (member order is not kept).
enum AnyJSON: Decodable {
    case null, bool(Bool), number(Double), string(String), array([AnyJSON]), object([String: AnyJSON])

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self) {
            var members: [String: AnyJSON] = [:]
            for key in keyed.allKeys { members[key.stringValue] = try keyed.decode(AnyJSON.self, forKey: key) }
            self = .object(members)
        } else if var list = try? decoder.unkeyedContainer() {
            var values: [AnyJSON] = []
            while !list.isAtEnd { values.append(try list.decode(AnyJSON.self)) }
            self = .array(values)
        } else {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() { self = .null }
            else if let b = try? single.decode(Bool.self) { self = .bool(b) }
            else if let n = try? single.decode(Double.self) { self = .number(n) }
            else { self = .string(try single.decode(String.self)) }
        }
    }

    func serialized() -> [UInt8] {
        switch self {
        case .null: return Array("null".utf8)
        case .bool(let b): return Array((b ? "true" : "false").utf8)
        case .number(let n):
            return Array((n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)).utf8)
        case .string(let s): return JSONText.quoted(s)
        case .array(let values):
            return Array("[".utf8) + values.map { $0.serialized() }.joined(separator: Array(",".utf8)) + Array("]".utf8)
        case .object(let members):
            let parts = members.sorted { $0.key < $1.key }.map { JSONText.quoted($0.key) + Array(":".utf8) + $0.value.serialized() }
            return Array("{".utf8) + parts.joined(separator: Array(",".utf8)) + Array("}".utf8)
        }
    }
}

/// Small helpers for writing JSON text by hand (the event log, templates).
public enum JSONText {
    /// `s` as a JSON string literal, escaped per RFC 8259 (control characters as \u00XX).
    public static func quoted(_ s: String) -> [UInt8] {
        var out: [UInt8] = [0x22]
        out.reserveCapacity(s.utf8.count + 2)
        appendEscaped(s, to: &out)
        out.append(0x22)
        return out
    }

    public static func appendEscaped(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        for b in s.utf8 {
            switch b {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0..<0x20: out += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
    }
}
