import Testing
@testable import WatcherCore

/// `BatchTable` behaves as the dictionary it replaced, whatever the ids.
@Suite struct BatchTableTests {
    func batch(_ run: String, _ phase: String, _ k: Int, attempts: Int = 3) -> Batch {
        Batch(id: BatchID(run: run, phase: phase, index: k), attemptsAllowed: attempts)
    }

    @Test func holdsWhatADictionaryHolds() {
        // Ordinary ids, ids out of order, and ids no plan makes (0, negative, far past the rest).
        let ids = [("a", "1", 1), ("a", "1", 2), ("a", "3", 1), ("b", "1", 5), ("a", "1", 0), ("a", "1", -4),
                   ("a", "1", 1_000_000_000), ("b", "2", 3), ("a", "1", 3)]
        var table = BatchTable()
        var dict: [BatchID: Batch] = [:]
        for (n, (r, p, k)) in ids.enumerated() {
            let b = batch(r, p, k, attempts: n + 1)
            table[b.id] = b
            dict[b.id] = b
            #expect(table.count == dict.count)
        }
        for (id, b) in dict { #expect(table[id] == b) }
        #expect(table[BatchID(run: "a", phase: "1", index: 4)] == nil)
        #expect(table[BatchID(run: "c", phase: "1", index: 1)] == nil)
        #expect(Set(table.keys) == Set(dict.keys))
        #expect(table.mapValues(\.attemptsAllowed) == dict.mapValues(\.attemptsAllowed))

        // Changed in place, removed, put back.
        let one = BatchID(run: "a", phase: "1", index: 2)
        table[one]?.attemptsAllowed = 99
        #expect(table[one]?.attemptsAllowed == 99)
        table[one] = nil
        #expect(table[one] == nil && table.count == dict.count - 1)
        let far = BatchID(run: "a", phase: "1", index: 1_000_000_000)
        table[far] = nil
        #expect(table[far] == nil && table.count == dict.count - 2)
        table[one] = batch("a", "1", 2)
        #expect(table.count == dict.count - 1 && table.values.filter { $0.id == one }.count == 1)
    }

    @Test func equalWhateverTheOrderOfInsertion() {
        let all = (1...50).flatMap { k in ["1", "2"].map { batch("r", $0, k) } } + [batch("r", "1", 0)]
        var a = BatchTable(), b = BatchTable()
        for x in all { a[x.id] = x }
        for x in all.reversed() { b[x.id] = x }
        #expect(a == b)
        b[BatchID(run: "r", phase: "2", index: 7)]?.attemptsAllowed = 1
        #expect(a != b)
        #expect(a.count == 101 && Array(a).count == 101)
    }
}
