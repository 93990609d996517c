import Testing
import WatcherCore

private func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

private func item(_ id: String, _ json: String) -> BatchItem {
    BatchItem(id: id, raw: utf8(json), value: try! JSONParser.parse(utf8(json)))
}

/// Test ids are "S<n>"; batch k holds S(2k-1) and S(2k).
private func testBatchOf(_ id: String) -> Int? {
    Int(id.dropFirst()).map { ($0 + 1) / 2 }
}

private func plan(
    _ main: String, _ strategy: MergeStrategy, key: String? = nil, idField: String? = nil,
    template: String? = nil, batch: Int, _ items: [BatchItem]
) throws -> MergeOutcome {
    try MergePlanner.plan(MergeRequest(
        strategy: strategy, itemsKey: key, idField: idField, main: utf8(main),
        template: template.map(utf8), batchIndex: batch, batchItems: items, batchOf: testBatchOf))
}

/// The new main file text, or a recorded issue.
private func written(_ outcome: MergeOutcome, inserted expected: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    guard case .write(let bytes, let inserted) = outcome else {
        Issue.record("expected .write, got \(outcome)", sourceLocation: sourceLocation)
        return ""
    }
    if let expected {
        #expect(inserted == expected, sourceLocation: sourceLocation)
    }
    // The result is JSON, or JSON Lines.
    if (try? JSONParser.parse(bytes)) == nil {
        for line in JSONScanner.lines(in: bytes) {
            #expect(throws: Never.self, sourceLocation: sourceLocation) { try JSONParser.parse(bytes[line]) }
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

private func objectBatch(_ k: Int) -> [BatchItem] {
    [item("S\(2 * k - 1)", "{\"t\": \(2 * k - 1)}"), item("S\(2 * k)", "{\"t\": \(2 * k)}")]
}

private func arrayBatch(_ k: Int) -> [BatchItem] {
    [item("S\(2 * k - 1)", "{\"id\": \"S\(2 * k - 1)\", \"v\": \(2 * k - 1)}"),
     item("S\(2 * k)", "{\"id\": \"S\(2 * k)\", \"v\": \(2 * k)}")]
}

@Suite("MergePlanner")
struct MergePlannerTests {
    // MARK: object

    @Test func objectMergesIntoEmptyFirstMiddleAndLastInBatchOrder() throws {
        // Batches finish in the order 3, 1, 2, 4; the file ends up in order 1, 2, 3, 4.
        var main = written(try plan("", .object, key: "translations", batch: 3, objectBatch(3)), inserted: 2)
        #expect(main == """
        {
          "translations": {
            "S5": {"t": 5},
            "S6": {"t": 6}
          }
        }

        """)
        main = written(try plan(main, .object, key: "translations", batch: 1, objectBatch(1)), inserted: 2)
        main = written(try plan(main, .object, key: "translations", batch: 2, objectBatch(2)), inserted: 2)
        main = written(try plan(main, .object, key: "translations", batch: 4, objectBatch(4)), inserted: 2)
        #expect(main == """
        {
          "translations": {
            "S1": {"t": 1},
            "S2": {"t": 2},
            "S3": {"t": 3},
            "S4": {"t": 4},
            "S5": {"t": 5},
            "S6": {"t": 6},
            "S7": {"t": 7},
            "S8": {"t": 8}
          }
        }

        """)
    }

    @Test func objectStartsFromACompactTemplateAndKeepsOtherMembers() throws {
        let template = #"{"course":"x","translations":{},"total":2}"#
        var main = written(try plan("", .object, key: "translations", template: template, batch: 2, objectBatch(2)))
        #expect(main == "{\"course\":\"x\",\"translations\":{\n  \"S3\": {\"t\": 3},\n  \"S4\": {\"t\": 4}\n},\"total\":2}")
        main = written(try plan(main, .object, key: "translations", template: template, batch: 1, [item("S1", "1")]))
        #expect(main == "{\"course\":\"x\",\"translations\":{\n  \"S1\": 1,\n  \"S3\": {\"t\": 3},\n  \"S4\": {\"t\": 4}\n},\"total\":2}")
    }

    @Test func templateWithoutTheKeyGetsTheMember() throws {
        let main = written(try plan("", .object, key: "translations", template: "{\n  \"course\": \"x\"\n}", batch: 1, [item("S1", "1")]))
        #expect(main == "{\n  \"course\": \"x\",\n  \"translations\": {\n    \"S1\": 1\n  }\n}")
        let empty = written(try plan("", .array, key: "seeds", idField: "id", template: "{}", batch: 1, [item("S1", #"{"id":"S1"}"#)]), inserted: 1)
        #expect(empty == "{\n  \"seeds\": [\n    {\"id\":\"S1\"}\n  ]\n}")
    }

    @Test func objectFollowsTheExistingStyle() throws {
        // Items sharing a line: separator and key separator are copied.
        let inline = written(try plan(#"{"translations": {"S1": 1, "S2": 2}}"#, .object, key: "translations", batch: 2, objectBatch(2)))
        #expect(inline == #"{"translations": {"S1": 1, "S2": 2, "S3": {"t": 3}, "S4": {"t": 4}}}"#)
        let compact = written(try plan(#"{"translations":{"S3":3}}"#, .object, key: "translations", batch: 1, [item("S1", "{\n  \"a\": 1\n}")]))
        #expect(compact == #"{"translations":{"S1":{"a":1},"S3":3}}"#)
        // Tabs and CRLF.
        let crlf = written(try plan("{\r\n\t\"S1\": 1\r\n}", .object, batch: 1, [item("S2", "2")]))
        #expect(crlf == "{\r\n\t\"S1\": 1,\r\n\t\"S2\": 2\r\n}")
    }

    @Test func multiLineValuesAreReindented() throws {
        // Taken from a batch file where the item sat at two spaces.
        let raw = "{\n    \"known\": \"a\",\n    \"target\": \"b\"\n  }"
        let main = written(try plan("", .object, key: "translations", batch: 1, [item("S1", raw)]))
        #expect(main == """
        {
          "translations": {
            "S1": {
              "known": "a",
              "target": "b"
            }
          }
        }

        """)
    }

    @Test func topLevelObjectAndArrayContainers() throws {
        let object = written(try plan("{}", .object, batch: 2, objectBatch(2)))
        #expect(object == "{\n  \"S3\": {\"t\": 3},\n  \"S4\": {\"t\": 4}\n}")
        let next = written(try plan(object, .object, batch: 1, [item("S1", "null")]))
        #expect(next == "{\n  \"S1\": null,\n  \"S3\": {\"t\": 3},\n  \"S4\": {\"t\": 4}\n}")
        let array = written(try plan("", .array, idField: "id", batch: 1, arrayBatch(1)))
        #expect(array == "[\n  {\"id\": \"S1\", \"v\": 1},\n  {\"id\": \"S2\", \"v\": 2}\n]\n")
    }

    // MARK: array

    @Test func arrayMergesOutOfOrderBatchesInBatchOrder() throws {
        var main = ""
        for batch in [3, 1, 4, 2] {
            main = written(try plan(main, .array, key: "seeds", idField: "id", batch: batch, arrayBatch(batch)), inserted: 2)
        }
        #expect(main == """
        {
          "seeds": [
            {"id": "S1", "v": 1},
            {"id": "S2", "v": 2},
            {"id": "S3", "v": 3},
            {"id": "S4", "v": 4},
            {"id": "S5", "v": 5},
            {"id": "S6", "v": 6},
            {"id": "S7", "v": 7},
            {"id": "S8", "v": 8}
          ]
        }

        """)
        let ids = try MergePlanner.existingItems(in: utf8(main), strategy: .array, itemsKey: "seeds", idField: "id").map(\.id)
        #expect(ids == ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"])
    }

    @Test func arrayElementsWithoutIdsCountAsEarlier() throws {
        let main = "[\n  {\"id\": \"S5\"},\n  {\"note\": 1},\n  {\"id\": \"S9\"}\n]"
        let merged = written(try plan(main, .array, idField: "id", batch: 3, [item("S6", #"{"id": "S6"}"#)]))
        #expect(merged == "[\n  {\"id\": \"S5\"},\n  {\"note\": 1},\n  {\"id\": \"S6\"},\n  {\"id\": \"S9\"}\n]")
    }

    // MARK: jsonl

    @Test func jsonlMergesOutOfOrderBatchesInBatchOrder() throws {
        let batch = { (k: Int) in
            [item("S\(2 * k - 1)", "{\"id\":\"S\(2 * k - 1)\"}"), item("S\(2 * k)", "{\n  \"id\": \"S\(2 * k)\",\n  \"n\": [1, 2]\n}")]
        }
        var main = written(try plan("", .jsonl, idField: "id", batch: 3, batch(3)), inserted: 2)
        #expect(main == "{\"id\":\"S5\"}\n{\"id\":\"S6\",\"n\":[1,2]}\n")
        main = written(try plan(main, .jsonl, idField: "id", batch: 1, batch(1)))
        main = written(try plan(main, .jsonl, idField: "id", batch: 2, batch(2)))
        main = written(try plan(main, .jsonl, idField: "id", batch: 4, batch(4)))
        let ids = JSONScanner.lines(in: utf8(main)).map { try! JSONParser.parse(utf8(main)[$0])["id"]!.stringValue! }
        #expect(ids == ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"])
        #expect(main.hasSuffix("{\"id\":\"S8\",\"n\":[1,2]}\n"))
        #expect(try plan(main, .jsonl, idField: "id", batch: 2, batch(2)) == .alreadyMerged)
    }

    @Test func jsonlAppendsAfterAFinalLineWithoutNewline() throws {
        let main = written(try plan("{\"id\": \"S1\"}", .jsonl, idField: "id", batch: 1, [item("S2", #"{"id": "S2"}"#)]))
        #expect(main == "{\"id\": \"S1\"}\n{\"id\": \"S2\"}\n")
    }

    // MARK: idempotence, conflicts, partial presence

    @Test(arguments: [MergeStrategy.object, .array, .jsonl])
    func mergingTheSameBatchTwiceIsAlreadyMerged(_ strategy: MergeStrategy) throws {
        let key: String? = strategy == .jsonl ? nil : "items"
        let items = strategy == .object ? objectBatch(1) : arrayBatch(1)
        let main = written(try plan("", strategy, key: key, idField: "id", batch: 1, items))
        #expect(try plan(main, strategy, key: key, idField: "id", batch: 1, items) == .alreadyMerged)
        // Equal content in other formatting is equal too.
        let reformatted = items.map { item($0.id, String(decoding: $0.value.serialized(), as: UTF8.self)) }
        #expect(try plan(main, strategy, key: key, idField: "id", batch: 1, reformatted) == .alreadyMerged)
    }

    @Test func differentContentIsAConflictAndNothingIsWritten() throws {
        let main = #"{"translations": {"S1": {"known": "a", "target": "b"}, "S2": 2}}"#
        let outcome = try plan(main, .object, key: "translations", batch: 1, [
            item("S1", #"{"known": "a", "target": "c"}"#), item("S2", "2"), item("S3", "3"),
        ])
        #expect(outcome == .conflict([
            MergeConflict(id: "S1", reason: "differs in \"target\""),
        ]))
        let array = #"[{"id": "S1", "v": 1}]"#
        #expect(try plan(array, .array, idField: "id", batch: 1, [item("S1", #"{"id": "S1", "v": 2}"#)])
            == .conflict([MergeConflict(id: "S1", reason: "differs in \"v\"")]))
        #expect(try plan(#"{"S1": 1}"#, .object, batch: 1, [item("S1", "2")])
            == .conflict([MergeConflict(id: "S1", reason: "different value")]))
    }

    @Test func duplicateIdsInTheBatch() throws {
        #expect(try plan("", .object, batch: 1, [item("S1", "1"), item("S1", "2")])
            == .conflict([MergeConflict(id: "S1", reason: "the batch holds this id twice with different content")]))
        let main = written(try plan("", .object, batch: 1, [item("S1", "1"), item("S1", " 1 ")]), inserted: 1)
        #expect(main == "{\n  \"S1\": 1\n}\n")
    }

    @Test func partialPresenceInsertsOnlyTheAbsentItems() throws {
        let main = "{\n  \"S1\": {\"t\": 1},\n  \"S5\": 5\n}"
        let merged = written(try plan(main, .object, batch: 1, objectBatch(1)), inserted: 1)
        #expect(merged == "{\n  \"S1\": {\"t\": 1},\n  \"S2\": {\"t\": 2},\n  \"S5\": 5\n}")
    }

    @Test func unknownExistingIdsCountAsBeforeEveryBatch() throws {
        let request = MergeRequest(
            strategy: .object, main: utf8("{\n  \"x\": 0,\n  \"S9\": 9,\n  \"y\": 0\n}"), batchIndex: 1,
            batchItems: [item("S1", "1")], batchOf: { $0.hasPrefix("S") ? Int($0.dropFirst()) : nil })
        guard case .write(let bytes, _) = try MergePlanner.plan(request) else {
            Issue.record("expected a write")
            return
        }
        #expect(String(decoding: bytes, as: UTF8.self) == "{\n  \"x\": 0,\n  \"S1\": 1,\n  \"S9\": 9,\n  \"y\": 0\n}")
    }

    @Test func emptyBatchOnAMissingMainFileCreatesItFromTheTemplate() throws {
        #expect(try plan("", .object, key: "k", batch: 1, []) == .write(newBytes: utf8("{\n  \"k\": {}\n}\n"), inserted: 0))
        #expect(try plan("{\"k\": {}}", .object, key: "k", batch: 1, []) == .alreadyMerged)
    }

    struct BadMainCase: CustomTestStringConvertible, Sendable {
        let main: String
        let strategy: MergeStrategy
        let key: String?
        let message: String
        var testDescription: String { main }
    }

    static let badMainCases: [BadMainCase] = [
        .init(main: #"{"translations": {"S1": 1,}}"#, strategy: .object, key: "translations",
              message: "main file: byte 26 (line 1, column 27): expected '\"' to begin an object key"),
        .init(main: #"{"translations": []}"#, strategy: .object, key: "translations",
              message: "main file: the member \"translations\" is an array, but the object strategy needs an object"),
        .init(main: "[]", strategy: .object, key: nil,
              message: "main file: the top level is an array, but the object strategy needs an object"),
        .init(main: "[]", strategy: .object, key: "translations",
              message: "main file: byte 0 (line 1, column 1): expected a top-level object, found '['"),
        .init(main: "{\"id\": \"S1\"}\n[1]\n", strategy: .jsonl, key: nil, message: "main file: line 2 is not a JSON object"),
    ]

    @Test("a broken main file is an error, not a conflict", arguments: badMainCases)
    func brokenMainFile(_ testCase: BadMainCase) {
        #expect(throws: MergePlanError(testCase.message)) {
            try plan(testCase.main, testCase.strategy, key: testCase.key, idField: "id", batch: 1, [item("S1", #"{"id":"S1"}"#)])
        }
    }

    @Test func presentIdsIndexTheMainFile() throws {
        let main = utf8("{\"items\": {\"a\": 1, \"b\": [2]}}")
        let present = try MergePlanner.presentIds(in: main, strategy: .object, itemsKey: "items", idField: nil)
        #expect(present.mapValues { String(decoding: main[$0], as: UTF8.self) } == ["a": "1", "b": "[2]"])
        #expect(try MergePlanner.presentIds(in: [], strategy: .array, itemsKey: "x", idField: "id").isEmpty)
        #expect(MergePlanner.defaultTemplate(strategy: .array, itemsKey: nil) == utf8("[]\n"))
    }

    // MARK: round trips over the real course data

    /// Splits the fixture's container into 20-seed batches, merges them in a
    /// shuffled order into a main file that starts as the fixture with an
    /// empty container, and returns the result.
    private func roundTrip(
        _ bytes: [UInt8], key: String, strategy: MergeStrategy, idField: String?, seed: UInt64
    ) throws -> (result: [UInt8], template: [UInt8], batches: Int) {
        let container = try JSONScanner.members(ofTopLevelKey: key, in: bytes)
        var batches: [Int: [BatchItem]] = [:]
        for scanned in container.items {
            let raw = Array(bytes[scanned.valueRange])
            let value = try JSONParser.parse(raw)
            let id = scanned.key ?? value[idField!]!.stringValue!
            batches[FixtureLoader.batchOf(id)!, default: []].append(BatchItem(id: id, raw: raw, value: value))
        }
        let template = Array(bytes[...container.openOffset]) + Array(bytes[container.closeOffset...])
        var generator = FixtureLoader.SeededGenerator(seed: seed)
        let order = batches.keys.sorted().shuffled(using: &generator)
        var main: [UInt8] = []
        for index in order {
            let outcome = try MergePlanner.plan(MergeRequest(
                strategy: strategy, itemsKey: key, idField: idField, main: main, template: template,
                batchIndex: index, batchItems: batches[index]!, batchOf: FixtureLoader.batchOf))
            guard case .write(let newBytes, let inserted) = outcome else {
                Issue.record("batch \(index): \(outcome)")
                continue
            }
            #expect(inserted == batches[index]!.count)
            main = newBytes
        }
        // Merging any batch again changes nothing.
        let again = try MergePlanner.plan(MergeRequest(
            strategy: strategy, itemsKey: key, idField: idField, main: main, template: template,
            batchIndex: order[0], batchItems: batches[order[0]]!, batchOf: FixtureLoader.batchOf))
        #expect(again == .alreadyMerged)
        return (main, template, batches.count)
    }

    @Test(.enabled(if: FixtureLoader.available, FixtureLoader.missingMessage))
    func seedPairsRoundTrip() throws {
        let fixture = FixtureLoader.seedPairs
        let (result, _, batches) = try roundTrip(fixture, key: "translations", strategy: .object, idField: nil, seed: 1)
        #expect(batches == 34)
        let parsed = try JSONParser.parse(result)
        #expect(parsed == FixtureLoader.seedPairsValue)
        #expect(parsed["translations"]?.objectValue?.map(\.key) == FixtureLoader.seedPairsValue["translations"]?.objectValue?.map(\.key))
        #expect(parsed.objectValue?.map(\.key) == FixtureLoader.seedPairsValue.objectValue?.map(\.key))
        // The fixture's own layout is reproduced byte for byte.
        #expect(result == fixture)
    }

    @Test(.enabled(if: FixtureLoader.available, FixtureLoader.missingMessage))
    func legoPairsRoundTrip() throws {
        let fixture = FixtureLoader.legoPairs
        let (result, _, batches) = try roundTrip(fixture, key: "seeds", strategy: .array, idField: "seed_id", seed: 2)
        #expect(batches == 34)
        let parsed = try JSONParser.parse(result)
        #expect(parsed == FixtureLoader.legoPairsValue)
        let ids = parsed["seeds"]?.arrayValue?.map { $0["seed_id"]?.stringValue ?? "" }
        #expect(ids == FixtureLoader.legoPairsValue["seeds"]?.arrayValue?.map { $0["seed_id"]?.stringValue ?? "" })
        #expect(result == fixture)
    }

    @Test(.enabled(if: FixtureLoader.available, FixtureLoader.missingMessage))
    func legoBasketsRoundTrip() throws {
        let fixture = FixtureLoader.legoBaskets
        let (result, _, _) = try roundTrip(fixture, key: "baskets", strategy: .object, idField: nil, seed: 3)
        let parsed = try JSONParser.parse(result)
        #expect(parsed == FixtureLoader.legoBasketsValue)
        // Baskets come out in batch order (the fixture has one S0141.. run after S0668),
        // and in the fixture's order within a batch.
        let fixtureKeys = FixtureLoader.legoBasketsValue["baskets"]!.objectValue!.map(\.key)
        let expected = fixtureKeys.enumerated()
            .sorted { (FixtureLoader.batchOf($0.element)!, $0.offset) < (FixtureLoader.batchOf($1.element)!, $1.offset) }
            .map(\.element)
        #expect(expected != fixtureKeys)
        #expect(parsed["baskets"]?.objectValue?.map(\.key) == expected)
    }

    /// Splicing a batch back into the 2.7 MB baskets file gives the file back byte for byte.
    /// (Its speed is measured by the benchmark, not here.)
    @Test(.enabled(if: FixtureLoader.available, FixtureLoader.missingMessage))
    func mergingBackIntoTheFullBasketsFileRestoresIt() throws {
        let bytes = FixtureLoader.legoBaskets
        let container = try JSONScanner.members(ofTopLevelKey: "baskets", in: bytes)
        // Take batch 2 (S0041..S0060) out of the file, then merge it back.
        let batch = container.items.filter { FixtureLoader.batchOf($0.key!) == 2 }
        var main = bytes
        for scanned in batch.reversed() {
            // Remove the member and the separator before it.
            var start = scanned.range.lowerBound
            while main[start - 1] != UInt8(ascii: ",") { start -= 1 }
            main.removeSubrange((start - 1)..<scanned.range.upperBound)
        }
        let items = try batch.map { BatchItem(id: $0.key!, raw: Array(bytes[$0.valueRange]), value: try JSONParser.parse(bytes[$0.valueRange])) }
        let result = try MergePlanner.plan(MergeRequest(
            strategy: .object, itemsKey: "baskets", main: main, batchIndex: 2, batchItems: items, batchOf: FixtureLoader.batchOf))
        #expect(result == .write(newBytes: bytes, inserted: batch.count))
    }
}
