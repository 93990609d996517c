import Testing
import WatcherCore

private func parse(_ text: String) throws(JSONParseError) -> JSONValue {
    try JSONParser.parse(Array(text.utf8))
}

private func parseError(_ bytes: [UInt8]) -> JSONParseError? {
    do throws(JSONParseError) {
        _ = try JSONParser.parse(bytes)
        return nil
    } catch {
        return error
    }
}

@Suite("JSONParser")
struct JSONParserTests {
    struct ValueCase: CustomTestStringConvertible, Sendable {
        let text: String
        let expected: JSONValue
        var testDescription: String { text }
    }

    static let valueCases: [ValueCase] = [
        .init(text: "null", expected: .null),
        .init(text: " true ", expected: .bool(true)),
        .init(text: "false", expected: .bool(false)),
        .init(text: "0", expected: .number(0)),
        .init(text: "-0", expected: .number(0)),
        .init(text: "42", expected: .number(42)),
        .init(text: "-17", expected: .number(-17)),
        .init(text: "3.25", expected: .number(3.25)),
        .init(text: "1e3", expected: .number(1000)),
        .init(text: "-2.5E-2", expected: .number(-0.025)),
        .init(text: "12345678901234567890", expected: .number(1.2345678901234567e19)),
        .init(text: "\"\"", expected: .string("")),
        .init(text: "\"héllo ñ\"", expected: .string("héllo ñ")),
        .init(text: #""a\"b\\c\/d\b\f\n\r\t""#, expected: .string("a\"b\\c/d\u{08}\u{0C}\n\r\t")),
        .init(text: #""\u00e9\u00E9 \u20AC""#, expected: .string("éé €")),
        .init(text: #""\ud83d\ude00!""#, expected: .string("😀!")),
        .init(text: "[]", expected: .array([])),
        .init(text: "[1, [2, []], {}]", expected: [1, [2, []], [:]]),
        .init(text: "{}", expected: .object([])),
        .init(text: #"{"b": 1, "a": {"c": [true, null]}}"#, expected: ["b": 1, "a": ["c": [true, .null]]]),
        .init(text: "\u{FEFF}{\"bom\": 1}", expected: ["bom": 1]),
        .init(text: "\n\t [ 1 ,\r\n 2 ] \n", expected: [1, 2]),
    ]

    @Test("parses valid JSON", arguments: valueCases)
    func parsesValues(_ testCase: ValueCase) throws {
        #expect(try parse(testCase.text) == testCase.expected)
    }

    struct ErrorCase: CustomTestStringConvertible, Sendable {
        let text: String
        let line: Int
        let column: Int
        let message: String
        var testDescription: String { text }
    }

    static let errorCases: [ErrorCase] = [
        .init(text: "{\n  \"a\": 1,\n  \"b\": 2\n  \"c\": 3\n}", line: 4, column: 3,
              message: "expected ',' or '}' after object member"),
        .init(text: "{\n  \"known\": \"x\",\n  \"target\": \"y\" \"z\"\n}", line: 3, column: 17,
              message: "expected ',' or '}' after object member"),
        .init(text: "[1, 2 3]", line: 1, column: 7, message: "expected ',' or ']' after array element"),
        .init(text: "[1, 2,]", line: 1, column: 7, message: "expected a value (trailing commas are not allowed)"),
        .init(text: "{\"a\": 1,}", line: 1, column: 9,
              message: "expected '\"' to begin an object key (trailing commas are not allowed)"),
        .init(text: "{\"a\" 1}", line: 1, column: 6, message: "expected ':' after object key"),
        .init(text: "{'a': 1}", line: 1, column: 2, message: "expected '\"' to begin an object key"),
        .init(text: "{\"a\": 1", line: 1, column: 8, message: "unexpected end of input: expected ',' or '}' after object member"),
        .init(text: "\"abc", line: 1, column: 1, message: "unterminated string"),
        .init(text: "[\"é\", \"a\tb\"]", line: 1, column: 9, message: "control character U+0009 in string must be escaped"),
        .init(text: "[\"a\\qb\"]", line: 1, column: 4, message: "invalid escape sequence '\\q'"),
        .init(text: "\"\\u12G4\"", line: 1, column: 6, message: "expected 4 hexadecimal digits after \\u"),
        .init(text: "\"\\ud800\"", line: 1, column: 2,
              message: "lone high surrogate in \\u escape (expected a following \\uDC00-\\uDFFF)"),
        .init(text: "\"\\udc00\"", line: 1, column: 2, message: "lone low surrogate in \\u escape"),
        .init(text: "[01]", line: 1, column: 2, message: "invalid number: leading zeros are not allowed"),
        .init(text: "[1.]", line: 1, column: 4, message: "invalid number: expected a digit after '.'"),
        .init(text: "-", line: 1, column: 2, message: "unexpected end of input: invalid number: expected a digit after '-'"),
        .init(text: "[1e+]", line: 1, column: 5, message: "invalid number: expected a digit in the exponent"),
        .init(text: "[tru]", line: 1, column: 2, message: "invalid literal: expected 'true'"),
        .init(text: "[NaN]", line: 1, column: 2, message: "expected a value, found 'N'"),
        .init(text: "{} x", line: 1, column: 4, message: "unexpected 'x' after the JSON value"),
        .init(text: "{}{}", line: 1, column: 3, message: "unexpected '{' after the JSON value"),
        .init(text: "", line: 1, column: 1, message: "empty input: expected a JSON value"),
        .init(text: "  \n ", line: 2, column: 2, message: "no JSON value, only whitespace"),
        .init(text: "// note\n{}", line: 1, column: 1, message: "expected a value, found '/'"),
    ]

    @Test("reports where and why invalid JSON fails", arguments: errorCases)
    func reportsErrors(_ testCase: ErrorCase) {
        let error = parseError(Array(testCase.text.utf8))
        #expect(error?.message == testCase.message)
        #expect(error?.line == testCase.line)
        #expect(error?.column == testCase.column)
        #expect(error?.description == "line \(testCase.line), column \(testCase.column): \(testCase.message)")
    }

    @Test func errorOffsetIsTheByteIndex() {
        let error = parseError(Array("{\"é\": 1 2}".utf8))
        #expect(error?.offset == 9)  // é is two bytes
        #expect(error?.column == 9)  // ...but one column
    }

    @Test func rejectsInvalidUTF8InStrings() {
        let error = parseError([0x5B, 0x22, 0x61, 0xFF, 0x22, 0x5D])  // ["a\xFF"]
        #expect(error?.message == "invalid UTF-8 in string")
        #expect(parseError([0x22, 0xC3, 0xA9, 0x22]) == nil)  // "é"
    }

    @Test func limitsNestingDepth() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(parseError(Array(ok.utf8)) == nil)
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(parseError(Array(deep.utf8))?.message == "nesting deeper than 512 levels")
        let deepObject = String(repeating: "{\"a\":", count: 600) + "1" + String(repeating: "}", count: 600)
        #expect(parseError(Array(deepObject.utf8))?.message == "nesting deeper than 512 levels")
    }

    @Test func objectsKeepKeyOrderButCompareUnordered() throws {
        let value = try parse(#"{"z": 1, "a": 2, "m": {"y": 1, "x": 2}}"#)
        #expect(value.objectValue?.map(\.key) == ["z", "a", "m"])
        #expect(value == (try parse(#"{"m": {"x": 2, "y": 1}, "a": 2, "z": 1}"#)))
        #expect(value != (try parse(#"{"z": 1, "a": 2, "m": {"y": 1, "x": 3}}"#)))
        #expect(value != (try parse(#"{"z": 1, "a": 2}"#)))
        #expect(try parse("[1, 2]") != (try parse("[2, 1]")))
        #expect(try parse("1") == (try parse("1.0")))
    }

    @Test func accessors() throws {
        let value = try parse(#"{"s": "x", "n": 3, "f": 1.5, "b": true, "a": [null], "o": {}, "s": "second"}"#)
        #expect(value["s"]?.stringValue == "x")  // the first of duplicate keys
        #expect(value["n"]?.intValue == 3)
        #expect(value["f"]?.intValue == nil)
        #expect(value["f"]?.doubleValue == 1.5)
        #expect(value["b"]?.boolValue == true)
        #expect(value["a"]?[0]?.isNull == true)
        #expect(value["a"]?[1] == nil)
        #expect(value["o"]?.objectValue?.isEmpty == true)
        #expect(value["missing"] == nil)
        #expect(value["a"]?["x"] == nil)
    }

    struct SerialisationCase: CustomTestStringConvertible, Sendable {
        let value: JSONValue
        let text: String
        var testDescription: String { text }
    }

    static let serialisationCases: [SerialisationCase] = [
        .init(value: .null, text: "null"),
        .init(value: [true, false], text: "[true,false]"),
        .init(value: 7, text: "7"),
        .init(value: -3, text: "-3"),
        .init(value: 0.1, text: "0.1"),
        .init(value: 1.5e20, text: "1.5e+20"),
        .init(value: .number(.infinity), text: "null"),
        .init(value: "q\"b\\s/\n\t\u{01}\u{1F}é😀", text: #""q\"b\\s/\n\t\u0001\u001fé😀""#),
        .init(value: ["b": 1, "a": ["x": [], "y": [:]]], text: #"{"b":1,"a":{"x":[],"y":{}}}"#),
    ]

    @Test("serialises compactly and deterministically", arguments: serialisationCases)
    func serialises(_ testCase: SerialisationCase) throws {
        #expect(testCase.value.serialized() == Array(testCase.text.utf8))
        #expect(testCase.value.description == testCase.text)
        if case .number(let number) = testCase.value, !number.isFinite { return }
        #expect(try JSONParser.parse(testCase.value.serialized()) == testCase.value)
    }

    @Test func serialisationRoundTripsEveryControlCharacter() throws {
        let all = String(decoding: (0..<0x80).map { UInt8($0) }, as: UTF8.self)
        let value = JSONValue.object([(key: all, value: .string(all))])
        #expect(try JSONParser.parse(value.serialized()) == value)
    }

    @Test(.enabled(if: FixtureLoader.available, FixtureLoader.missingMessage))
    func parsesTheFixturesAndRoundTripsThem() throws {
        for bytes in [FixtureLoader.seedPairs, FixtureLoader.legoPairs, FixtureLoader.legoBaskets] {
            let value = try JSONParser.parse(bytes)
            #expect(try JSONParser.parse(value.serialized()) == value)
        }
        #expect(FixtureLoader.seedPairsValue["translations"]?.objectValue?.count == 668)
        #expect(FixtureLoader.legoPairsValue["seeds"]?.arrayValue?.count == 668)
        #expect(FixtureLoader.legoBasketsValue["baskets"]?.objectValue?.count == 2392)
    }
}
