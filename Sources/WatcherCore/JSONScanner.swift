/// One item of a scanned container: an object member or an array element.
public struct ScannedItem: Equatable, Sendable {
    /// The member's key, unescaped; nil for array elements.
    public var key: String?
    /// The key token including its quotes; nil for array elements.
    public var keyRange: Range<Int>?
    /// The raw value bytes, without surrounding whitespace.
    public var valueRange: Range<Int>

    public init(key: String?, keyRange: Range<Int>?, valueRange: Range<Int>) {
        self.key = key
        self.keyRange = keyRange
        self.valueRange = valueRange
    }

    /// From the key's opening quote (or the element's first byte) to the value's end.
    public var range: Range<Int> {
        (keyRange?.lowerBound ?? valueRange.lowerBound)..<valueRange.upperBound
    }
}

/// An object or array found by ``JSONScanner``, with the byte ranges of its items.
public struct ScannedContainer: Equatable, Sendable {
    public enum Kind: String, Equatable, Sendable {
        case object, array
    }

    public var kind: Kind
    /// Index of the `{` or `[`.
    public var openOffset: Int
    /// Index of the matching `}` or `]`.
    public var closeOffset: Int
    public var items: [ScannedItem]

    public init(kind: Kind, openOffset: Int, closeOffset: Int, items: [ScannedItem]) {
        self.kind = kind
        self.openOffset = openOffset
        self.closeOffset = closeOffset
        self.items = items
    }
}

/// Why a scan failed, and where.
public struct JSONScanError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Equatable, Sendable {
        /// The bytes are not well-formed JSON.
        case syntax
        /// The top-level object has no member with the requested key.
        case keyNotFound
        /// The top-level object has the requested key more than once.
        case duplicateKey
        /// The value found is not of the kind asked for (object/array).
        case wrongKind
    }

    public var kind: Kind
    public var message: String
    public var offset: Int
    public var line: Int
    public var column: Int

    public init(kind: Kind, message: String, offset: Int, line: Int, column: Int) {
        self.kind = kind
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// "byte 1234 (line 40, column 7): expected ',' or '}' after object member"
    public var description: String {
        "byte \(offset) (line \(line), column \(column)): \(message)"
    }
}

/// Structural scanning of JSON bytes without building values: finds
/// containers and the byte ranges of their items, so that items can be
/// spliced in without parsing and re-serialising a large file.
///
/// The scanner checks structure (brackets, strings, separators, literals,
/// number characters, no trailing bytes) but not everything ``JSONParser``
/// checks (escape validity, UTF-8, number grammar details).
public enum JSONScanner {
    public typealias Container = ScannedContainer

    /// The container held by the top-level object's member `key`.
    ///
    /// Throws `.keyNotFound` when the member is missing, `.duplicateKey` when
    /// it occurs twice, `.wrongKind` when the top level is not an object or
    /// the member's value is not an object or array, `.syntax` for malformed bytes.
    public static func members(ofTopLevelKey key: String, in bytes: [UInt8]) throws(JSONScanError) -> Container {
        try withScanner(bytes) { scanner throws(JSONScanError) in
            try scanner.containerOfTopLevelKey(key)
        }
    }

    /// The top-level array (for a main file whose top level is the array).
    public static func items(ofTopLevelArrayIn bytes: [UInt8]) throws(JSONScanError) -> Container {
        let container = try topLevel(in: bytes)
        guard container.kind == .array else {
            throw JSONScanError.at(container.openOffset, in: bytes, .wrongKind, "expected a top-level array, found an object")
        }
        return container
    }

    /// The top-level container, object or array.
    public static func topLevel(in bytes: [UInt8]) throws(JSONScanError) -> Container {
        try withScanner(bytes) { scanner throws(JSONScanError) in
            let container = try scanner.scanTopLevelContainer()
            try scanner.expectEnd()
            return container
        }
    }

    /// The container whose opening bracket is at `offset` (e.g. the start of
    /// an item's value range). Bytes after its closing bracket are not examined.
    public static func container(at offset: Int, in bytes: [UInt8]) throws(JSONScanError) -> Container {
        try withScanner(bytes) { scanner throws(JSONScanError) in
            scanner.index = offset
            return try scanner.scanContainer()
        }
    }

    /// The value range of the first member `key` of the object spanning
    /// `range` (a value range from a scan), or nil if it has no such member.
    /// Stops scanning at the member. Throws `.wrongKind` if `range` does not
    /// hold an object.
    public static func memberValueRange(
        _ key: String, inObjectAt range: Range<Int>, of bytes: [UInt8]
    ) throws(JSONScanError) -> Range<Int>? {
        try withScanner(bytes, end: range.upperBound) { scanner throws(JSONScanError) in
            scanner.index = range.lowerBound
            return try scanner.findMember(key)
        }
    }

    /// The unescaped string value of member `key` of the object spanning
    /// `range`; nil if the member is missing or not a string.
    public static func stringMember(
        _ key: String, inObjectAt range: Range<Int>, of bytes: [UInt8]
    ) throws(JSONScanError) -> String? {
        guard let valueRange = try memberValueRange(key, inObjectAt: range, of: bytes),
              bytes[valueRange.lowerBound] == JSONByte.quote
        else { return nil }
        return decodeString(bytes[valueRange])
    }

    /// The non-blank lines of a JSON Lines text, each without its line break
    /// and surrounding whitespace.
    public static func lines(in bytes: [UInt8]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var lineStart = 0
        let count = bytes.count
        bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            while index <= count {
                if index == count || buffer[index] == JSONByte.newline {
                    var lower = lineStart, upper = index
                    while lower < upper, JSONByte.isWhitespace(buffer[lower]) { lower += 1 }
                    while upper > lower, JSONByte.isWhitespace(buffer[upper - 1]) { upper -= 1 }
                    if lower < upper { result.append(lower..<upper) }
                    lineStart = index + 1
                }
                index += 1
            }
        }
        return result
    }

    /// Unescapes a string token (with its quotes).
    static func decodeString(_ token: ArraySlice<UInt8>) -> String {
        if !token.contains(JSONByte.backslash), token.count >= 2 {
            return String(decoding: token.dropFirst().dropLast(), as: UTF8.self)
        }
        if let value = try? JSONParser.parse(token), case .string(let string) = value {
            return string
        }
        return String(decoding: token.dropFirst().dropLast(), as: UTF8.self)
    }

    private static func withScanner<R>(
        _ bytes: [UInt8], end: Int? = nil,
        _ body: (inout _JSONScanner) throws(JSONScanError) -> R
    ) throws(JSONScanError) -> R {
        let result: Result<R, JSONScanError> = bytes.withUnsafeBufferPointer { buffer in
            var scanner = _JSONScanner(buffer, end: min(end ?? buffer.count, buffer.count))
            do throws(JSONScanError) {
                return .success(try body(&scanner))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension JSONScanError {
    static func at(_ offset: Int, in bytes: [UInt8], _ kind: Kind, _ message: String) -> JSONScanError {
        let position = JSONTextPosition(offset: offset, in: bytes)
        return JSONScanError(kind: kind, message: message, offset: offset, line: position.line, column: position.column)
    }
}

// MARK: - The scanner

struct _JSONScanner {
    let buffer: UnsafeBufferPointer<UInt8>
    let end: Int
    var index = 0
    var depth = 0

    init(_ buffer: UnsafeBufferPointer<UInt8>, end: Int) {
        self.buffer = buffer
        self.end = end
    }

    func error(_ message: String, at offset: Int? = nil, kind: JSONScanError.Kind = .syntax) -> JSONScanError {
        let offset = offset ?? index
        let position = JSONTextPosition(offset: offset, in: buffer)
        return JSONScanError(kind: kind, message: message, offset: offset, line: position.line, column: position.column)
    }

    func unexpected(_ expectation: String) -> JSONScanError {
        index >= end ? error("unexpected end of input: \(expectation)") : error(expectation)
    }

    @inline(__always)
    /// An object key and the ':' after it; leaves `index` at the value. Returns the key's
    /// range, quotes included.
    mutating func scanKey() throws(JSONScanError) -> Range<Int> {
        guard index < end, buffer[index] == JSONByte.quote else {
            throw unexpected("expected '\"' to begin an object key")
        }
        let keyStart = index
        try skipString()
        let keyRange = keyStart..<index
        skipWhitespace()
        guard index < end, buffer[index] == JSONByte.colon else {
            throw unexpected("expected ':' after object key")
        }
        index += 1
        skipWhitespace()
        return keyRange
    }

    mutating func skipWhitespace() {
        while index < end, JSONByte.isWhitespace(buffer[index]) { index += 1 }
    }

    mutating func skipBOMAndWhitespace() {
        if index == 0, end >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { index = 3 }
        skipWhitespace()
    }

    mutating func expectEnd() throws(JSONScanError) {
        skipWhitespace()
        if index < end {
            throw error("unexpected \(JSONByte.describe(buffer[index])) after the JSON value")
        }
    }

    mutating func scanTopLevelContainer() throws(JSONScanError) -> ScannedContainer {
        skipBOMAndWhitespace()
        guard index < end else { throw error(end == 0 ? "empty input" : "no JSON value, only whitespace") }
        let byte = buffer[index]
        guard byte == JSONByte.openBrace || byte == JSONByte.openBracket else {
            throw error("expected a top-level object or array, found \(JSONByte.describe(byte))", kind: .wrongKind)
        }
        return try scanContainer()
    }

    /// One pass over the top-level object: the member `key`'s container is scanned with its items
    /// recorded, every other value is skipped. (Scanning the whole object first and the member
    /// again afterwards read the largest container of a main file twice.) Errors keep their
    /// precedence: malformed bytes anywhere first, then a duplicate key, a missing key, a wrong kind.
    mutating func containerOfTopLevelKey(_ key: String) throws(JSONScanError) -> ScannedContainer {
        skipBOMAndWhitespace()
        guard index < end else { throw error(end == 0 ? "empty input" : "no JSON value, only whitespace") }
        guard buffer[index] == JSONByte.openBrace else {
            throw error("expected a top-level object, found \(JSONByte.describe(buffer[index]))", kind: .wrongKind)
        }
        let topOpen = index
        let keyBytes = Array(key.utf8)
        var valueStart: Int?
        var found: ScannedContainer?
        var duplicateAt: Int?
        try enter()
        index += 1
        skipWhitespace()
        if index < end, buffer[index] == JSONByte.closeBrace {
            index += 1
        } else {
            while true {
                let keyRange = try scanKey()
                if keyMatches(keyRange, keyBytes) {
                    if valueStart == nil {
                        valueStart = index
                        if index < end, buffer[index] == JSONByte.openBrace || buffer[index] == JSONByte.openBracket {
                            found = try scanContainer()
                        } else {
                            try skipValue()
                        }
                    } else {
                        if duplicateAt == nil { duplicateAt = keyRange.lowerBound }
                        try skipValue()
                    }
                } else {
                    try skipValue()
                }
                skipWhitespace()
                guard index < end else { throw unexpected("expected ',' or '}' after object member") }
                let byte = buffer[index]
                if byte == JSONByte.comma {
                    index += 1
                    skipWhitespace()
                } else if byte == JSONByte.closeBrace {
                    index += 1
                    break
                } else {
                    throw error("expected ',' or '}' after object member")
                }
            }
        }
        depth -= 1
        try expectEnd()
        if let duplicateAt {
            throw error("top-level key \"\(key)\" occurs more than once", at: duplicateAt, kind: .duplicateKey)
        }
        guard let start = valueStart else {
            throw error("no top-level member \"\(key)\"", at: topOpen, kind: .keyNotFound)
        }
        guard let found else {
            throw error("top-level member \"\(key)\" is not an object or array", at: start, kind: .wrongKind)
        }
        return found
    }

    /// Scans the container at `index` (which must be `{` or `[`), recording its items.
    mutating func scanContainer() throws(JSONScanError) -> ScannedContainer {
        guard index < end else { throw unexpected("expected '{' or '['") }
        let open = index
        let isObject = buffer[index] == JSONByte.openBrace
        guard isObject || buffer[index] == JSONByte.openBracket else {
            throw error("expected '{' or '[', found \(JSONByte.describe(buffer[index]))", kind: .wrongKind)
        }
        try enter()
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        var items: [ScannedItem] = []
        let close = isObject ? JSONByte.closeBrace : JSONByte.closeBracket
        if index < end, buffer[index] == close {
            index += 1
            return ScannedContainer(kind: isObject ? .object : .array, openOffset: open, closeOffset: index - 1, items: items)
        }
        while true {
            if isObject {
                let keyRange = try scanKey()
                let valueStart = index
                try skipValue()
                let key = JSONScanner.decodeString(ArraySlice(UnsafeBufferPointer(rebasing: buffer[keyRange])))
                items.append(ScannedItem(key: key, keyRange: keyRange, valueRange: valueStart..<index))
            } else {
                let valueStart = index
                try skipValue()
                items.append(ScannedItem(key: nil, keyRange: nil, valueRange: valueStart..<index))
            }
            skipWhitespace()
            guard index < end else {
                throw unexpected(isObject ? "expected ',' or '}' after object member" : "expected ',' or ']' after array element")
            }
            let byte = buffer[index]
            if byte == JSONByte.comma {
                index += 1
                skipWhitespace()
            } else if byte == close {
                index += 1
                return ScannedContainer(kind: isObject ? .object : .array, openOffset: open, closeOffset: index - 1, items: items)
            } else {
                throw error(isObject ? "expected ',' or '}' after object member" : "expected ',' or ']' after array element")
            }
        }
    }

    /// From the `{` at `index`, finds member `key` and returns its value range.
    mutating func findMember(_ key: String) throws(JSONScanError) -> Range<Int>? {
        skipWhitespace()
        guard index < end, buffer[index] == JSONByte.openBrace else {
            throw unexpected("expected an object")
                .with(kind: .wrongKind)
        }
        index += 1
        skipWhitespace()
        if index < end, buffer[index] == JSONByte.closeBrace { return nil }
        let keyBytes = Array(key.utf8)
        while true {
            let keyRange = try scanKey()
            let valueStart = index
            try skipValue()
            if keyMatches(keyRange, keyBytes) { return valueStart..<index }
            skipWhitespace()
            guard index < end else { throw unexpected("expected ',' or '}' after object member") }
            if buffer[index] == JSONByte.comma {
                index += 1
                skipWhitespace()
            } else if buffer[index] == JSONByte.closeBrace {
                return nil
            } else {
                throw error("expected ',' or '}' after object member")
            }
        }
    }

    func keyMatches(_ token: Range<Int>, _ key: [UInt8]) -> Bool {
        let inner = (token.lowerBound + 1)..<(token.upperBound - 1)
        if inner.count == key.count {
            var equal = true
            for (offset, byte) in key.enumerated() where buffer[inner.lowerBound + offset] != byte {
                equal = false
                break
            }
            if equal { return true }
        }
        // An escaped key may still spell `key`.
        if UnsafeBufferPointer(rebasing: buffer[inner]).contains(JSONByte.backslash) {
            let decoded = JSONScanner.decodeString(ArraySlice(UnsafeBufferPointer(rebasing: buffer[token])))
            return Array(decoded.utf8) == key
        }
        return false
    }

    mutating func enter() throws(JSONScanError) {
        depth += 1
        if depth > JSONParser.maximumDepth {
            throw error("nesting deeper than \(JSONParser.maximumDepth) levels")
        }
    }

    /// Skips the string starting at the `"` at `index`. Runs of ordinary bytes are skipped eight
    /// at a time (a word with no `"`, `\\` or control byte in it).
    mutating func skipString() throws(JSONScanError) {
        let open = index
        index += 1
        let base = UnsafeRawPointer(buffer.baseAddress)
        while true {
            if let base {
                while index &+ 8 <= end, !_JSONScanner.hasSpecialByte(base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
                    index &+= 8
                }
            }
            guard index < end else { break }
            let byte = buffer[index]
            if byte == JSONByte.quote {
                index += 1
                return
            }
            if byte == JSONByte.backslash {
                index += 2
                continue
            }
            if byte < 0x20 {
                throw error("control character in string must be escaped")
            }
            index += 1
        }
        throw error("unterminated string", at: open)
    }

    /// Whether any of the eight bytes of `word` is `"`, `\\` or below 0x20 (the classic
    /// "has a zero byte" test on `word ^ pattern`; exact for "any", which is all that is asked).
    @inline(__always)
    static func hasSpecialByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote & highs
        let hasBackslash = (backslash &- ones) & ~backslash & highs
        let hasControl = (word &- ones &* 0x20) & ~word & highs
        return (hasQuote | hasBackslash | hasControl) != 0
    }

    /// Skips one value starting at `index`.
    mutating func skipValue() throws(JSONScanError) {
        guard index < end else { throw error("unexpected end of input: expected a value") }
        let byte = buffer[index]
        switch byte {
        case JSONByte.quote:
            try skipString()
        case JSONByte.openBrace, JSONByte.openBracket:
            try skipContainer()
        case JSONByte.minus, JSONByte.zero...JSONByte.nine:
            let start = index
            index += 1
            while index < end {
                let c = buffer[index]
                if JSONByte.isDigit(c) || c == JSONByte.dot || c == JSONByte.plus || c == JSONByte.minus
                    || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                    index += 1
                } else {
                    break
                }
            }
            if buffer[index - 1] == JSONByte.minus || buffer[index - 1] == JSONByte.dot {
                throw error("invalid number", at: start)
            }
        case UInt8(ascii: "t"): try skipLiteral("true")
        case UInt8(ascii: "f"): try skipLiteral("false")
        case UInt8(ascii: "n"): try skipLiteral("null")
        default:
            throw error("expected a value, found \(JSONByte.describe(byte))")
        }
    }

    mutating func skipLiteral(_ literal: StaticString) throws(JSONScanError) {
        let count = literal.utf8CodeUnitCount
        let pointer = literal.utf8Start
        for offset in 0..<count {
            guard index + offset < end, buffer[index + offset] == pointer[offset] else {
                throw error("invalid literal: expected '\(literal)'")
            }
        }
        index += count
    }

    /// Skips a nested container without recording items.
    mutating func skipContainer() throws(JSONScanError) {
        let isObject = buffer[index] == JSONByte.openBrace
        let close = isObject ? JSONByte.closeBrace : JSONByte.closeBracket
        try enter()
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if index < end, buffer[index] == close {
            index += 1
            return
        }
        while true {
            if isObject {
                guard index < end, buffer[index] == JSONByte.quote else {
                    throw unexpected("expected '\"' to begin an object key")
                }
                try skipString()
                skipWhitespace()
                guard index < end, buffer[index] == JSONByte.colon else { throw unexpected("expected ':' after object key") }
                index += 1
                skipWhitespace()
            }
            try skipValue()
            skipWhitespace()
            guard index < end else {
                throw unexpected(isObject ? "expected ',' or '}' after object member" : "expected ',' or ']' after array element")
            }
            let byte = buffer[index]
            if byte == JSONByte.comma {
                index += 1
                skipWhitespace()
            } else if byte == close {
                index += 1
                return
            } else {
                throw error(isObject ? "expected ',' or '}' after object member" : "expected ',' or ']' after array element")
            }
        }
    }
}

extension JSONScanError {
    func with(kind: Kind) -> JSONScanError {
        var copy = self
        copy.kind = kind
        return copy
    }
}
