import Testing
import WatcherCore

private func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

private func slice(_ bytes: [UInt8], _ range: Range<Int>) -> String {
    String(decoding: bytes[range], as: UTF8.self)
}

private func scanError(_ body: () throws(JSONScanError) -> ScannedContainer) -> JSONScanError? {
    do throws(JSONScanError) {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

@Suite("JSONScanner")
struct JSONScannerTests {
    static let tricky = utf8(#"""
    {
      "before": {"x": "}", "y": ["]", "{"]},
      "a\"b": "x\\",
      "t\u0072anslations": {
        "k\"1": "}]\"",
        "k2": [1, {"x": "]"}, -2.5e3, true, null],
        "k\\3" :{ "deep": [[[{}]]] } ,
        "k4": "\\\"{["
      },
      "after": [1, 2]
    }
    """#)

    @Test func findsTheMembersOfATopLevelKeyPastTrickyStrings() throws {
        let bytes = Self.tricky
        let container = try JSONScanner.members(ofTopLevelKey: "translations", in: bytes)
        #expect(container.kind == .object)
        #expect(bytes[container.openOffset] == UInt8(ascii: "{"))
        #expect(bytes[container.closeOffset] == UInt8(ascii: "}"))
        #expect(container.items.map(\.key) == ["k\"1", "k2", "k\\3", "k4"])
        let values = container.items.map { slice(bytes, $0.valueRange) }
        #expect(values == [#""}]\"""#, #"[1, {"x": "]"}, -2.5e3, true, null]"#, #"{ "deep": [[[{}]]] }"#, #""\\\"{[""#])
        let keys = container.items.map { slice(bytes, $0.keyRange!) }
        #expect(keys == [#""k\"1""#, #""k2""#, #""k\\3""#, #""k4""#])
        #expect(slice(bytes, container.items[2].range) == #""k\\3" :{ "deep": [[[{}]]] }"#)
        // Each raw value parses on its own.
        for item in container.items {
            _ = try JSONParser.parse(bytes[item.valueRange])
        }
    }

    @Test func findsAnArrayMember() throws {
        let container = try JSONScanner.members(ofTopLevelKey: "after", in: Self.tricky)
        #expect(container.kind == .array)
        #expect(container.items.map { slice(Self.tricky, $0.valueRange) } == ["1", "2"])
        #expect(container.items.allSatisfy { $0.key == nil && $0.keyRange == nil })
    }

    @Test func scansEmptyContainers() throws {
        let bytes = utf8("{\"items\": {  \n }, \"list\": []}")
        let object = try JSONScanner.members(ofTopLevelKey: "items", in: bytes)
        #expect(object.items.isEmpty)
        #expect(object.openOffset == 10)
        #expect(object.closeOffset == 15)
        let array = try JSONScanner.members(ofTopLevelKey: "list", in: bytes)
        #expect(array.items.isEmpty)
        #expect(array.closeOffset == array.openOffset + 1)
    }

    @Test func scansTopLevelContainers() throws {
        let bytes = utf8(" [ {\"id\": \"a\"} , \"x,y\" ,3 ] \n")
        let array = try JSONScanner.items(ofTopLevelArrayIn: bytes)
        #expect(array.items.map { slice(bytes, $0.valueRange) } == [#"{"id": "a"}"#, #""x,y""#, "3"])
        #expect(try JSONScanner.topLevel(in: bytes) == array)
        let object = try JSONScanner.topLevel(in: utf8(#"{"a": 1}"#))
        #expect(object.kind == .object && object.items.first?.key == "a")
        let error = scanError { () throws(JSONScanError) in try JSONScanner.items(ofTopLevelArrayIn: utf8("{}")) }
        #expect(error?.kind == .wrongKind)
    }

    struct ErrorCase: CustomTestStringConvertible, Sendable {
        let text: String
        let key: String
        let kind: JSONScanError.Kind
        let offset: Int
        let line: Int
        let message: String
        var testDescription: String { text }
    }

    static let errorCases: [ErrorCase] = [
        .init(text: #"{"a": {}}"#, key: "b", kind: .keyNotFound, offset: 0, line: 1, message: #"no top-level member "b""#),
        .init(text: #"{"a": 1}"#, key: "a", kind: .wrongKind, offset: 6, line: 1,
              message: #"top-level member "a" is not an object or array"#),
        .init(text: #"[{"a": []}]"#, key: "a", kind: .wrongKind, offset: 0, line: 1,
              message: "expected a top-level object, found '['"),
        .init(text: "{\"a\": [],\n \"a\": {}}", key: "a", kind: .duplicateKey, offset: 11, line: 2,
              message: #"top-level key "a" occurs more than once"#),
        .init(text: "{\"a\": [1,\n 2\n 3]}", key: "a", kind: .syntax, offset: 14, line: 3,
              message: "expected ',' or ']' after array element"),
        .init(text: "{\"a\": [\"x\\\"]}", key: "a", kind: .syntax, offset: 7, line: 1, message: "unterminated string"),
        .init(text: "{\"a\": []} []", key: "a", kind: .syntax, offset: 10, line: 1, message: "unexpected '[' after the JSON value"),
        .init(text: "{\"z\": {\"q\": tru}, \"a\": []}", key: "a", kind: .syntax, offset: 12, line: 1,
              message: "invalid literal: expected 'true'"),
        .init(text: "", key: "a", kind: .syntax, offset: 0, line: 1, message: "empty input"),
    ]

    @Test("names the byte offset and line of failures", arguments: errorCases)
    func reportsErrors(_ testCase: ErrorCase) {
        let error = scanError { () throws(JSONScanError) in
            try JSONScanner.members(ofTopLevelKey: testCase.key, in: utf8(testCase.text))
        }
        #expect(error?.kind == testCase.kind)
        #expect(error?.offset == testCase.offset)
        #expect(error?.line == testCase.line)
        #expect(error?.message == testCase.message)
        #expect(error?.description.hasPrefix("byte \(testCase.offset) (line \(testCase.line), column ") == true)
    }

    @Test func findsAMemberOfAnItemWithoutScanningTheRest() throws {
        let bytes = utf8(#"[{"legos": [{"seed_id": "inner"}], "seed_id" : "S\u0030001", "x": 1}, {"x": {"seed_id": 1}}]"#)
        let array = try JSONScanner.items(ofTopLevelArrayIn: bytes)
        #expect(try JSONScanner.stringMember("seed_id", inObjectAt: array.items[0].valueRange, of: bytes) == "S0001")
        #expect(try JSONScanner.stringMember("seed_id", inObjectAt: array.items[1].valueRange, of: bytes) == nil)
        let range = try JSONScanner.memberValueRange("x", inObjectAt: array.items[1].valueRange, of: bytes)
        #expect(range.map { slice(bytes, $0) } == #"{"seed_id": 1}"#)
        let nested = try JSONScanner.container(at: range!.lowerBound, in: bytes)
        #expect(nested.items.map(\.key) == ["seed_id"])
    }

    @Test func splitsJSONLines() {
        let bytes = utf8("{\"a\":1}\n\n  {\"b\":2}  \r\n{\"c\":3}")
        #expect(JSONScanner.lines(in: bytes).map { slice(bytes, $0) } == [#"{"a":1}"#, #"{"b":2}"#, #"{"c":3}"#])
        #expect(JSONScanner.lines(in: utf8("\n \n")).isEmpty)
        #expect(JSONScanner.lines(in: []).isEmpty)
    }

    @Test(.enabled(if: FixtureLoader.available, FixtureLoader.missingMessage))
    func scansTheFixturesConsistentlyWithTheParser() throws {
        let cases: [([UInt8], JSONValue, String)] = [
            (FixtureLoader.seedPairs, FixtureLoader.seedPairsValue, "translations"),
            (FixtureLoader.legoPairs, FixtureLoader.legoPairsValue, "seeds"),
            (FixtureLoader.legoBaskets, FixtureLoader.legoBasketsValue, "baskets"),
        ]
        for (bytes, value, key) in cases {
            let container = try JSONScanner.members(ofTopLevelKey: key, in: bytes)
            let parsed = value[key]!
            switch parsed {
            case .object(let members):
                #expect(container.items.map(\.key) == members.map(\.key))
                for (item, member) in zip(container.items, members) {
                    #expect(try JSONParser.parse(bytes[item.valueRange]) == member.value)
                }
            case .array(let elements):
                #expect(container.items.count == elements.count)
                for (item, element) in zip(container.items, elements) {
                    #expect(try JSONParser.parse(bytes[item.valueRange]) == element)
                }
            default:
                Issue.record("\(key) is not a container")
            }
        }
    }
}
