import Testing
@testable import WatcherCore

/// The index's append is the full merge's result without the full merge: for a batch that goes
/// after every item already there, the same bytes as `MergePlanner.plan`, and the same size and
/// CRC-32 as a read of the new file would give.
@Suite struct MainFileIndexTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var strategy: MergeStrategy
        var key: String?
        var idField: String?
        var main: String
        var batch: [(String, String)]
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "object, pretty", strategy: .object, key: "t", idField: nil,
             main: "{\n  \"course\": \"x\",\n  \"t\": {\n    \"S0001\": {\"a\": 1},\n    \"S0002\": {\"a\": 2}\n  }\n}\n",
             batch: [("S0003", #"{"a": 3}"#), ("S0004", "{\n  \"a\": 4\n}")]),
        Case(name: "object, one line, bare", strategy: .object, key: nil, idField: nil,
             main: #"{"S0001":1,"S0002":2}"#, batch: [("S0003", "3")]),
        Case(name: "array, pretty", strategy: .array, key: "seeds", idField: "seed_id",
             main: "{\"seeds\": [\n  {\"seed_id\": \"S0001\"}\n]}\n",
             batch: [("S0002", #"{"seed_id": "S0002", "n": [1, 2]}"#)]),
        Case(name: "jsonl", strategy: .jsonl, key: nil, idField: "seed_id",
             main: "{\"seed_id\": \"S0001\"}\n", batch: [("S0002", #"{"seed_id": "S0002"}"#), ("S0003", #"{"seed_id": "S0003"}"#)]),
        Case(name: "jsonl without a last line break", strategy: .jsonl, key: nil, idField: "seed_id",
             main: "{\"seed_id\": \"S0001\"}", batch: [("S0002", #"{"seed_id": "S0002"}"#)]),
    ]

    static func items(_ batch: [(String, String)]) throws -> [BatchItem] {
        try batch.map { BatchItem(id: $0.0, raw: Array($0.1.utf8), value: try JSONParser.parse(Array($0.1.utf8))) }
    }

    static func batchOf(_ id: String) -> Int? { Int(id.dropFirst(1)) } // S0003 is batch 3

    static func index(_ c: Case, _ main: [UInt8]) throws -> MainFileIndex {
        try MainFileIndex.scan(main, strategy: c.strategy, itemsKey: c.key, idField: c.idField, batchOf: batchOf)
    }

    @Test(arguments: cases)
    func anInOrderBatchAppendsTheBytesTheFullMergeWritesWithTheirSizeAndCRC(_ c: Case) throws {
        let main = Array(c.main.utf8)
        let index = try Self.index(c, main)
        #expect(index.facts == MainFileFacts(of: main))
        let items = try Self.items(c.batch)
        let batch = items.compactMap { Self.batchOf($0.id) }.max()! // the batch its ids belong to
        let full = try MergePlanner.plan(MergeRequest(strategy: c.strategy, itemsKey: c.key, idField: c.idField, main: main,
                                                      batchIndex: batch, batchItems: items, batchOf: Self.batchOf))
        guard case .write(let expected, _) = full else { Issue.record("the full merge did not write: \(full)"); return }
        var after = index
        let appended = after.append(items, batchIndex: batch)
        let block = try #require(appended)
        let written = Array(main[..<index.insertAt]) + block + index.closing
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        #expect(after.facts == MainFileFacts(of: expected))
        // The index after the append is the index a scan of the new file gives.
        var rescanned = try Self.index(c, expected)
        rescanned.identity = nil
        #expect(after == rescanned)
        // And a second batch on top of the first.
        let size = after.size
        let second = after.append([BatchItem(id: "S0009", value: c.strategy == .object ? .number(9) : .object([(key: "seed_id", value: .string("S0009"))]))], batchIndex: 9)
        let next = try #require(second)
        #expect(after.facts.size == size + next.count)
        #expect(after.highestBatch == 9)
    }

    @Test func batchesTheIndexCannotPlaceGoToTheFullMerge() throws {
        let c = Self.cases[0]
        var index = try Self.index(c, Array(c.main.utf8))
        let before = index
        #expect(index.highestBatch == 2)
        let present = try Self.items([("S0002", #"{"a": 2}"#)])
        let refused1 = index.append(present, batchIndex: 2)
        #expect(refused1 == nil, "an id already there: idempotence and conflicts are the planner's")
        let refused2 = index.append(try Self.items([("S0000", "0")]), batchIndex: 1)
        #expect(refused2 == nil, "goes before batch 2's items")
        let refused3 = index.append(try Self.items([("S0005", "5"), ("S0005", "6")]), batchIndex: 5)
        #expect(refused3 == nil, "an id twice")
        let refused4 = index.append([], batchIndex: 5)
        #expect(refused4 == nil)
        #expect(index == before, "a refused batch changes nothing")
        var empty = try MainFileIndex.scan(Array("{\"t\": {}}".utf8), strategy: .object, itemsKey: "t", idField: nil, batchOf: Self.batchOf)
        #expect(!empty.hasItems)
        let refused5 = empty.append(try Self.items([("S0005", "5")]), batchIndex: 5)
        #expect(refused5 == nil, "the first items of a container")
    }

    @Test func aFileTheFullMergeCannotReadHasNoIndex() {
        #expect(throws: MergePlanError.self) {
            try MainFileIndex.scan(Array("{\"t\": [".utf8), strategy: .object, itemsKey: "t", idField: nil, batchOf: Self.batchOf)
        }
    }
}
