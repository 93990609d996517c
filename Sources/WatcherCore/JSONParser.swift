/// A place in a UTF-8 text: 1-based line and column.
///
/// The column counts Unicode scalars from the start of the line (a byte that
/// is not a UTF-8 continuation byte starts a new column), so it matches what
/// an editor shows for text without tabs or combining marks.
public struct JSONTextPosition: Equatable, Sendable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The position of byte `offset` in `bytes`.
    public init(offset: Int, in bytes: [UInt8]) {
        self = bytes.withUnsafeBufferPointer { JSONTextPosition(offset: offset, in: $0) }
    }

    init(offset: Int, in buffer: UnsafeBufferPointer<UInt8>) {
        let end = min(max(offset, 0), buffer.count)
        var line = 1
        var column = 1
        var index = 0
        while index < end {
            let byte = buffer[index]
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            index += 1
        }
        self.init(line: line, column: column)
    }
}

/// Why a text is not valid JSON, and where.
public struct JSONParseError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What was wrong, e.g. "expected ',' or '}' after object member".
    public var message: String
    /// Index of the offending byte in the parsed bytes (`bytes.count` at end of input).
    public var offset: Int
    /// 1-based line of `offset`.
    public var line: Int
    /// 1-based column of `offset`, in Unicode scalars.
    public var column: Int

    public init(message: String, offset: Int, line: Int, column: Int) {
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// "line 3, column 14: expected ',' or '}' after object member"
    public var description: String {
        "line \(line), column \(column): \(message)"
    }
}

/// A strict RFC 8259 JSON parser over UTF-8 bytes.
///
/// Strict means: one value, optionally surrounded by whitespace (a leading
/// UTF-8 byte order mark is skipped); no comments, trailing commas, single
/// quotes, leading zeros, `NaN`; control characters in strings must be
/// escaped; `\u` escapes must form valid scalars (surrogates only in pairs);
/// strings must be valid UTF-8. Nesting deeper than ``maximumDepth`` is refused.
public enum JSONParser {
    /// The deepest nesting of arrays and objects accepted.
    public static let maximumDepth = 512

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            run(buffer)
        }
        return try result.get()
    }

    /// Parses a slice; error offsets are relative to the slice's start.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            run(buffer)
        }
        return try result.get()
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses `buffer`; error offsets are relative to its start.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        try run(buffer).get()
    }

    private static func run(_ buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> {
        var parser = _JSONParser(buffer)
        do throws(JSONParseError) {
            return .success(try parser.parseDocument())
        } catch {
            return .failure(error)
        }
    }
}

// MARK: - Byte constants

enum JSONByte {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let slash = UInt8(ascii: "/")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
    static let space = UInt8(ascii: " ")
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == newline || byte == carriageReturn || byte == tab
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- zero < 10
    }

    /// "'x'" for printable JSONByte, otherwise "byte 0xNN".
    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        switch byte {
        case space: return "a space"
        case newline: return "a line break"
        case tab: return "a tab"
        case carriageReturn: return "a carriage return"
        default:
            let digits = Array("0123456789ABCDEF")
            return "byte 0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])"
        }
    }
}

// MARK: - The parser

struct _JSONParser {
    let buffer: UnsafeBufferPointer<UInt8>
    let end: Int
    var index = 0
    var depth = 0

    init(_ buffer: UnsafeBufferPointer<UInt8>) {
        self.buffer = buffer
        self.end = buffer.count
    }

    func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        let offset = offset ?? index
        let position = JSONTextPosition(offset: offset, in: buffer)
        return JSONParseError(message: message, offset: offset, line: position.line, column: position.column)
    }

    /// An error at the current byte, or "unexpected end of input: ..." when there is none.
    func unexpected(_ expectation: String) -> JSONParseError {
        if index >= end {
            return error("unexpected end of input: \(expectation)")
        }
        return error(expectation)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < end, JSONByte.isWhitespace(buffer[index]) {
            index += 1
        }
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if end >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
            index = 3
        }
        skipWhitespace()
        guard index < end else {
            throw error(end == 0 ? "empty input: expected a JSON value" : "no JSON value, only whitespace")
        }
        let value = try parseValue()
        skipWhitespace()
        if index < end {
            throw error("unexpected \(JSONByte.describe(buffer[index])) after the JSON value")
        }
        return value
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < end else { throw error("unexpected end of input: expected a value") }
        switch buffer[index] {
        case JSONByte.openBrace:
            return try parseObject()
        case JSONByte.openBracket:
            return try parseArray()
        case JSONByte.quote:
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case JSONByte.minus, JSONByte.zero...JSONByte.nine:
            return .number(try parseNumber())
        default:
            throw error("expected a value, found \(JSONByte.describe(buffer[index]))")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = index
        let count = literal.utf8CodeUnitCount
        let pointer = literal.utf8Start
        for offset in 0..<count {
            guard start + offset < end, buffer[start + offset] == pointer[offset] else {
                throw error("invalid literal: expected '\(literal)'", at: start)
            }
        }
        index = start + count
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > JSONParser.maximumDepth {
            throw error("nesting deeper than \(JSONParser.maximumDepth) levels")
        }
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1  // '{'
        skipWhitespace()
        var members: [(key: String, value: JSONValue)] = []
        if index < end, buffer[index] == JSONByte.closeBrace {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            guard index < end, buffer[index] == JSONByte.quote else {
                if index < end, buffer[index] == JSONByte.closeBrace, !members.isEmpty {
                    throw error("expected '\"' to begin an object key (trailing commas are not allowed)")
                }
                throw unexpected("expected '\"' to begin an object key")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < end, buffer[index] == JSONByte.colon else {
                throw unexpected("expected ':' after object key")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key: key, value: value))
            skipWhitespace()
            guard index < end else {
                throw unexpected("expected ',' or '}' after object member")
            }
            let byte = buffer[index]
            if byte == JSONByte.comma {
                index += 1
                skipWhitespace()
            } else if byte == JSONByte.closeBrace {
                index += 1
                depth -= 1
                return .object(members)
            } else {
                throw error("expected ',' or '}' after object member")
            }
        }
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1  // '['
        skipWhitespace()
        var elements: [JSONValue] = []
        if index < end, buffer[index] == JSONByte.closeBracket {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            if index < end, buffer[index] == JSONByte.closeBracket, !elements.isEmpty {
                throw error("expected a value (trailing commas are not allowed)")
            }
            elements.append(try parseValue())
            skipWhitespace()
            guard index < end else {
                throw unexpected("expected ',' or ']' after array element")
            }
            let byte = buffer[index]
            if byte == JSONByte.comma {
                index += 1
                skipWhitespace()
            } else if byte == JSONByte.closeBracket {
                index += 1
                depth -= 1
                return .array(elements)
            } else {
                throw error("expected ',' or ']' after array element")
            }
        }
    }

    /// Parses the string starting at the current `"`.
    mutating func parseString() throws(JSONParseError) -> String {
        let open = index
        index += 1
        let start = index
        // Fast path: no escapes. Ordinary bytes are skipped eight at a time.
        let base = UnsafeRawPointer(buffer.baseAddress)
        while index < end {
            if let base {
                while index &+ 8 <= end, !_JSONScanner.hasSpecialByte(base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
                    index &+= 8
                }
                guard index < end else { break }
            }
            let byte = buffer[index]
            if byte == JSONByte.quote {
                let string = try makeString(UnsafeBufferPointer(rebasing: buffer[start..<index]), at: start)
                index += 1
                return string
            }
            if byte == JSONByte.backslash { break }
            if byte < 0x20 { throw controlCharacterError(byte) }
            index += 1
        }
        guard index < end else { throw error("unterminated string", at: open) }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(index - start + 16)
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<index]))
        while index < end {
            let byte = buffer[index]
            if byte == JSONByte.quote {
                index += 1
                return try bytes.withUnsafeBufferPointer { pointer throws(JSONParseError) in
                    try makeString(pointer, at: start)
                }
            }
            if byte == JSONByte.backslash {
                try parseEscape(into: &bytes)
            } else if byte < 0x20 {
                throw controlCharacterError(byte)
            } else {
                bytes.append(byte)
                index += 1
            }
        }
        throw error("unterminated string", at: open)
    }

    func controlCharacterError(_ byte: UInt8) -> JSONParseError {
        let digits = Array("0123456789ABCDEF")
        let name = "U+00\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])"
        return error("control character \(name) in string must be escaped")
    }

    func makeString(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) throws(JSONParseError) -> String {
        // ASCII needs no validation (and String(validating:as:) is a generic call that costs more
        // than the check itself for the short keys and values of event records).
        if _JSONParser.isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw error("invalid UTF-8 in string", at: start)
        }
        return string
    }

    /// Whether every byte is below 0x80, eight bytes at a time.
    @inline(__always)
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var i = 0
        var high: UInt64 = 0
        while i &+ 8 <= bytes.count {
            high |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        var tail: UInt8 = 0
        while i < bytes.count {
            tail |= bytes[i]
            i &+= 1
        }
        return high & 0x8080_8080_8080_8080 == 0 && tail & 0x80 == 0
    }

    /// Parses the escape at the current `\` and appends its UTF-8 bytes.
    mutating func parseEscape(into bytes: inout [UInt8]) throws(JSONParseError) {
        let escapeStart = index
        index += 1
        guard index < end else { throw error("unterminated string") }
        let byte = buffer[index]
        index += 1
        switch byte {
        case JSONByte.quote: bytes.append(JSONByte.quote)
        case JSONByte.backslash: bytes.append(JSONByte.backslash)
        case JSONByte.slash: bytes.append(JSONByte.slash)
        case UInt8(ascii: "b"): bytes.append(0x08)
        case UInt8(ascii: "f"): bytes.append(0x0C)
        case UInt8(ascii: "n"): bytes.append(0x0A)
        case UInt8(ascii: "r"): bytes.append(0x0D)
        case UInt8(ascii: "t"): bytes.append(0x09)
        case UInt8(ascii: "u"):
            let first = try parseHex4()
            var scalarValue = UInt32(first)
            if (0xD800...0xDBFF).contains(first) {
                guard index + 1 < end, buffer[index] == JSONByte.backslash, buffer[index + 1] == UInt8(ascii: "u") else {
                    throw error("lone high surrogate in \\u escape (expected a following \\uDC00-\\uDFFF)", at: escapeStart)
                }
                index += 2
                let second = try parseHex4()
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw error("high surrogate not followed by a low surrogate in \\u escape", at: escapeStart)
                }
                scalarValue = 0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(first) {
                throw error("lone low surrogate in \\u escape", at: escapeStart)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw error("invalid \\u escape", at: escapeStart)
            }
            appendUTF8(scalar, to: &bytes)
        default:
            throw error("invalid escape sequence '\\\(Character(Unicode.Scalar(byte)))'", at: escapeStart)
        }
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard index < end else { throw error("unexpected end of input in \\u escape") }
            let byte = buffer[index]
            let digit: UInt8
            switch byte {
            case JSONByte.zero...JSONByte.nine: digit = byte - JSONByte.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("expected 4 hexadecimal digits after \\u")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    func appendUTF8(_ scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
        let value = scalar.value
        switch value {
        case 0..<0x80:
            bytes.append(UInt8(value))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | (value >> 6)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | (value >> 12)))
            bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        default:
            bytes.append(UInt8(0xF0 | (value >> 18)))
            bytes.append(UInt8(0x80 | ((value >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = index
        var negative = false
        var integral = true
        if buffer[index] == JSONByte.minus {
            negative = true
            index += 1
        }
        guard index < end, JSONByte.isDigit(buffer[index]) else {
            throw unexpected("invalid number: expected a digit after '-'")
        }
        let digitsStart = index
        if buffer[index] == JSONByte.zero {
            index += 1
            if index < end, JSONByte.isDigit(buffer[index]) {
                throw error("invalid number: leading zeros are not allowed", at: start)
            }
        } else {
            while index < end, JSONByte.isDigit(buffer[index]) { index += 1 }
        }
        let digitsEnd = index
        if index < end, buffer[index] == JSONByte.dot {
            integral = false
            index += 1
            guard index < end, JSONByte.isDigit(buffer[index]) else {
                throw unexpected("invalid number: expected a digit after '.'")
            }
            while index < end, JSONByte.isDigit(buffer[index]) { index += 1 }
        }
        if index < end, buffer[index] == UInt8(ascii: "e") || buffer[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < end, buffer[index] == JSONByte.plus || buffer[index] == JSONByte.minus { index += 1 }
            guard index < end, JSONByte.isDigit(buffer[index]) else {
                throw unexpected("invalid number: expected a digit in the exponent")
            }
            while index < end, JSONByte.isDigit(buffer[index]) { index += 1 }
        }
        if integral, digitsEnd - digitsStart <= 15 {
            var value: Int64 = 0
            for position in digitsStart..<digitsEnd {
                value = value &* 10 &+ Int64(buffer[position] &- JSONByte.zero)
            }
            return negative ? -Double(value) : Double(value)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self)
        guard let value = Double(text) else {
            throw error("invalid number", at: start)
        }
        return value
    }
}
