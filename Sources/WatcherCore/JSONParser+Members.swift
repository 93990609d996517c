/// Reads a JSON object member by member with the project's parser, without building a
/// ``JSONValue`` for the whole object: the caller looks at each key's bytes and reads its value
/// as a string, a whole number or a `JSONValue`, so the fields it knows cost no key `String`,
/// no members array and no lookups. The grammar and the errors are ``JSONParser``'s.
///
///     var r = JSONObjectReader(buffer)
///     guard try r.begin() else { ... }      // not an object: parse it whole instead
///     while try r.nextKey() {
///         if r.keyIs("seq") { seq = try r.readValue().intValue } else { _ = try r.readValue() }
///     }
///
/// After `nextKey()` returns true, exactly one `read…` call must follow.
public struct JSONObjectReader {
    var parser: _JSONParser
    var keyStart = 0, keyEnd = 0
    /// The key, decoded, when it holds an escape (its bytes are then not what it means).
    var escapedKey: String?
    var started = false

    /// `buffer` must stay valid while the reader is used.
    public init(_ buffer: UnsafeBufferPointer<UInt8>) { parser = _JSONParser(buffer) }

    /// Enters the object that must be the whole input (whitespace around it allowed); false,
    /// consuming nothing, when the input does not start with `{`.
    public mutating func begin() throws(JSONParseError) -> Bool {
        parser.skipWhitespace()
        guard parser.index < parser.end, parser.buffer[parser.index] == JSONByte.openBrace else { return false }
        try parser.enter()
        parser.index += 1
        parser.skipWhitespace()
        return true
    }

    /// Moves to the next member's key; false at the end of the object, once nothing but
    /// whitespace is seen to follow it.
    public mutating func nextKey() throws(JSONParseError) -> Bool {
        if started {
            parser.skipWhitespace()
            guard parser.index < parser.end else { throw parser.unexpected("expected ',' or '}' after object member") }
            let byte = parser.buffer[parser.index]
            if byte == JSONByte.comma {
                parser.index += 1
                parser.skipWhitespace()
            } else if byte == JSONByte.closeBrace {
                return try finish()
            } else {
                throw parser.error("expected ',' or '}' after object member")
            }
        } else if parser.index < parser.end, parser.buffer[parser.index] == JSONByte.closeBrace {
            return try finish()
        }
        guard parser.index < parser.end, parser.buffer[parser.index] == JSONByte.quote else {
            if started, parser.index < parser.end, parser.buffer[parser.index] == JSONByte.closeBrace {
                throw parser.error("expected '\"' to begin an object key (trailing commas are not allowed)")
            }
            throw parser.unexpected("expected '\"' to begin an object key")
        }
        started = true
        keyStart = parser.index + 1
        escapedKey = nil
        var i = keyStart
        while i < parser.end {
            let b = parser.buffer[i]
            if b == JSONByte.quote || b == JSONByte.backslash || b < 0x20 || b >= 0x80 { break }
            i += 1
        }
        if i < parser.end, parser.buffer[i] == JSONByte.quote { // plain ASCII: the bytes are the key
            keyEnd = i
            parser.index = i + 1
        } else { // an escape, a control byte or UTF-8 to check: the parser reads it (and names what is wrong)
            escapedKey = try parser.parseString()
        }
        parser.skipWhitespace()
        guard parser.index < parser.end, parser.buffer[parser.index] == JSONByte.colon else {
            throw parser.unexpected("expected ':' after object key")
        }
        parser.index += 1
        parser.skipWhitespace()
        return true
    }

    private mutating func finish() throws(JSONParseError) -> Bool {
        parser.index += 1
        parser.depth -= 1
        parser.skipWhitespace()
        if parser.index < parser.end {
            throw parser.error("unexpected \(JSONByte.describe(parser.buffer[parser.index])) after the JSON value")
        }
        return false
    }

    /// Whether the current key is `name` (ASCII).
    public func keyIs(_ name: StaticString) -> Bool {
        if let escapedKey { return escapedKey == name.description }
        let count = name.utf8CodeUnitCount
        guard keyEnd - keyStart == count else { return false }
        let p = name.utf8Start
        for i in 0..<count where parser.buffer[keyStart + i] != p[i] { return false }
        return true
    }

    /// The current key as text.
    public var key: String {
        escapedKey ?? String(decoding: UnsafeBufferPointer(rebasing: parser.buffer[keyStart..<keyEnd]), as: UTF8.self)
    }

    /// The value, whatever it is.
    public mutating func readValue() throws(JSONParseError) -> JSONValue { try parser.parseValue() }

    /// Names that repeat on most lines, with their bytes (plain names: no quote, backslash or
    /// control byte), for ``readString(known:)``.
    public struct KnownNames: Sendable {
        let names: [(text: String, bytes: [UInt8])]
        public init(_ names: [String]) { self.names = names.map { ($0, Array($0.utf8)) } }
    }

    /// The value when it is a string; any other value is read and gives nil. Where its text is
    /// one of `known`, that string is returned (no new storage for names that repeat on every line).
    public mutating func readString(known: KnownNames? = nil) throws(JSONParseError) -> String? {
        guard parser.index < parser.end, parser.buffer[parser.index] == JSONByte.quote else {
            _ = try parser.parseValue()
            return nil
        }
        let start = parser.index + 1
        if let known, start < parser.end {
            let first = parser.buffer[start]
            for k in known.names where k.bytes.first == first && matches(k.bytes, at: start) {
                parser.index = start + k.bytes.count + 1
                return k.text
            }
        }
        return try parser.parseString()
    }

    /// Whether the string value at `start` is exactly `k` followed by its closing quote.
    private func matches(_ k: [UInt8], at start: Int) -> Bool {
        guard start + k.count < parser.end, parser.buffer[start + k.count] == JSONByte.quote else { return false }
        for i in 0..<k.count where parser.buffer[start + i] != k[i] { return false }
        return true
    }
}
