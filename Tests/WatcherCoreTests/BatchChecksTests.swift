import Testing
import WatcherCore

private func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

private func check(
    _ text: String, _ strategy: MergeStrategy, key: String? = nil, idField: String? = nil, expected: [String]? = nil
) -> (report: ValidationReport, items: [BatchItem], parsed: JSONValue?) {
    BatchChecks.check(bytes: utf8(text), strategy: strategy, itemsKey: key, idField: idField, expectedIds: expected)
}

/// "type item" pairs, for compact expectations.
private func summary(_ report: ValidationReport) -> [String] {
    report.errors.map { "\($0.type) \($0.item ?? "-")" }
}

@Suite("BatchChecks")
struct BatchChecksTests {
    @Test func acceptsAKeyedObjectBatchAndKeepsRawBytes() {
        let text = """
        {"phase": "1", "translations": {
          "S0021": {"known": "a", "target": "b"},
          "S0022": { "known" : "c", "target": "d" }
        }}
        """
        let result = check(text, .object, key: "translations", expected: ["S0021", "S0022"])
        #expect(result.report == ValidationReport(valid: true, errors: [], failedItems: [], stats: ["items": 2, "expected": 2]))
        #expect(result.items.map(\.id) == ["S0021", "S0022"])
        #expect(result.items[1].raw == utf8(#"{ "known" : "c", "target": "d" }"#))
        #expect(result.items[1].value == ["known": "c", "target": "d"])
        #expect(result.parsed?["phase"] == "1")
    }

    @Test func acceptsBareContainers() {
        let object = check(#"{"S1": {"known": "a"}, "S2": 2}"#, .object, key: "translations", expected: ["S1", "S2"])
        #expect(object.report.valid)
        #expect(object.items.map(\.id) == ["S1", "S2"])
        let array = check(#"[{"seed_id": "S1"}, {"seed_id": "S2", "x": [1]}]"#, .array, key: "seeds", idField: "seed_id")
        #expect(array.report.valid)
        #expect(array.items.map(\.id) == ["S1", "S2"])
        #expect(array.items[1].raw == utf8(#"{"seed_id": "S2", "x": [1]}"#))
        let keyless = check(#"[{"a": 1}, 2]"#, .array)
        #expect(keyless.items.map(\.id) == ["0", "1"])
    }

    struct FailureCase: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        let strategy: MergeStrategy
        var key: String? = nil
        var idField: String? = nil
        var expected: [String]? = nil
        let errors: [String]
        var message: String? = nil
        var testDescription: String { name }
    }

    static let failureCases: [FailureCase] = [
        .init(name: "invalid JSON", text: "{\"translations\": {\n  \"S1\": {\"known\": \"a\" \"target\": \"b\"}\n}}",
              strategy: .object, key: "translations", expected: ["S1"], errors: ["invalid_json -"],
              message: "line 2, column 23: expected ',' or '}' after object member"),
        .init(name: "empty file", text: " \n", strategy: .object, key: "translations", expected: ["S1"],
              errors: ["no_output -"], message: "the output file is empty"),
        .init(name: "misspelt key", text: #"{"translation": {"S1": {}}}"#, strategy: .object, key: "translations",
              expected: ["S1"], errors: ["missing_container -"],
              message: #"no top-level member "translations" (found "translation")"#),
        .init(name: "array batch without its key", text: #"{"seed": [{"seed_id": "S1"}]}"#, strategy: .array,
              key: "seeds", idField: "seed_id", expected: ["S1"], errors: ["missing_container -"],
              message: #"expected a top-level object whose member "seeds" holds an array of items, found an object without it"#),
        .init(name: "container of the wrong kind", text: #"{"seeds": {"S1": {}}}"#, strategy: .array, key: "seeds",
              idField: "seed_id", errors: ["missing_container -"],
              message: #"the member "seeds" is an object, expected an array of items"#),
        .init(name: "scalar top level", text: "42", strategy: .object, errors: ["missing_container -"],
              message: "expected an object keyed by item id at the top level, found a number"),
        .init(name: "duplicate keys", text: #"{"S1": 1, "S2": 2, "S1": 1, "S1": 3}"#, strategy: .object,
              errors: ["duplicate_item S1"], message: "S1 occurs more than once"),
        .init(name: "duplicate top-level key", text: #"{"t": {"S1": 1}, "t": {"S2": 2}}"#, strategy: .object, key: "t",
              errors: ["invalid_json -"], message: "line 1, column 18: top-level key \"t\" occurs more than once"),
        .init(name: "missing and extra ids", text: #"{"t": {"S1": 1, "S4": 4}}"#, strategy: .object, key: "t",
              expected: ["S1", "S2", "S3"], errors: ["missing_item S2", "missing_item S3", "extra_item S4"],
              message: "S2 is missing from the output"),
        .init(name: "element without id", text: #"{"seeds": [{"seed_id": "S1"}, {"id": "S2"}, 3, {"seed_id": 4}]}"#,
              strategy: .array, key: "seeds", idField: "seed_id",
              errors: ["invalid_item -", "invalid_item -", "invalid_item -"],
              message: #"item 2 has no non-empty string "seed_id""#),
        .init(name: "empty key", text: #"{"": 1}"#, strategy: .object, errors: ["invalid_item -"],
              message: #"an item has an empty id ("" as key)"#),
        .init(name: "jsonl with a broken line", text: "{\"id\": \"S1\"}\n\n  {\"id\": \"S2\",}\n[1]\n{\"id\": \"S1\"}\n",
              strategy: .jsonl, idField: "id", expected: ["S1", "S2"],
              errors: ["invalid_json -", "invalid_item -", "duplicate_item S1", "missing_item S2"],
              message: "line 3, column 15: expected '\"' to begin an object key (trailing commas are not allowed)"),
    ]

    @Test("reports problems by id", arguments: failureCases)
    func reportsFailures(_ testCase: FailureCase) {
        let result = check(testCase.text, testCase.strategy, key: testCase.key, idField: testCase.idField, expected: testCase.expected)
        #expect(!result.report.valid)
        #expect(summary(result.report) == testCase.errors)
        if let message = testCase.message {
            #expect(result.report.errors.first?.message == message)
        }
        #expect(result.report.failedItems == Array(Set(result.report.errors.compactMap(\.item))).sorted())
    }

    @Test func invalidJSONHasNoParsedValueOrItems() {
        let result = check("{\"t\": [1,]}", .array, key: "t", idField: "id", expected: ["S1"])
        #expect(result.parsed == nil)
        #expect(result.items.isEmpty)
        #expect(result.report.errors.first?.suggestion == "Write valid JSON (RFC 8259): fix the syntax at line 1, column 10.")
    }

    @Test func duplicatesKeepTheFirstOccurrence() {
        let result = check(#"[{"id": "a", "n": 1}, {"id": "a", "n": 2}]"#, .array, idField: "id")
        #expect(result.items.count == 1)
        #expect(result.items.first?.value["n"] == 1)
    }

    @Test func jsonlItemsAreTheirLines() {
        let result = check("{\"id\":\"a\",\"n\":1}\r\n  {\"id\":\"b\"}  \n", .jsonl, idField: "id", expected: ["a", "b"])
        #expect(result.report.valid)
        #expect(result.items.map(\.raw) == [utf8(#"{"id":"a","n":1}"#), utf8(#"{"id":"b"}"#)])
        #expect(result.parsed == [["id": "a", "n": 1], ["id": "b"]])
    }

    @Test(.enabled(if: FixtureLoader.available, FixtureLoader.missingMessage))
    func theWholeFixtureFilesPass() {
        let seeds = (1...668).map { "S" + String(repeating: "0", count: 4 - String($0).count) + String($0) }
        let translations = BatchChecks.check(
            bytes: FixtureLoader.seedPairs, strategy: .object, itemsKey: "translations", idField: nil, expectedIds: seeds)
        #expect(translations.report.valid)
        #expect(translations.items.count == 668)
        let legos = BatchChecks.check(
            bytes: FixtureLoader.legoPairs, strategy: .array, itemsKey: "seeds", idField: "seed_id", expectedIds: seeds)
        #expect(legos.report.valid)
        #expect(legos.items.map(\.id) == seeds)
        let baskets = BatchChecks.check(
            bytes: FixtureLoader.legoBaskets, strategy: .object, itemsKey: "baskets", idField: nil, expectedIds: nil)
        #expect(baskets.report.valid)
        #expect(baskets.report.stats == ["items": 2392])
    }
}
