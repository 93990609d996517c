import Testing
@testable import WatcherCore

@Suite struct RunScopeTests {
    @Test func parsesBatchRanges() {
        #expect(RunScope.parseBatches("3-5") == 3...5)
        #expect(RunScope.parseBatches("5") == 5...5)
        #expect(RunScope.parseBatches("5-3") == nil)
        #expect(RunScope.parseBatches("0-2") == nil)
        #expect(RunScope.parseBatches("a-b") == nil)
    }

    @Test func containsByBatchAndPhase() {
        let s = RunScope(batches: 2...3, phases: ["1"])
        #expect(s.contains(BatchID(run: "r", phase: "1", index: 2)))
        #expect(!s.contains(BatchID(run: "r", phase: "1", index: 4)))
        #expect(!s.contains(BatchID(run: "r", phase: "3", index: 2)))
    }

    @Test func isoTime() {
        #expect(ISOTime.string(0) == "1970-01-01T00:00:00Z")
        #expect(ISOTime.string(1_795_000_000.7) == "2026-11-18T11:06:40Z")
    }

    @Test func eventFilterBatchLabel() {
        #expect(EventFilter.parseBatch("3/7")?.phase == "3")
        #expect(EventFilter.parseBatch("3/7")?.index == 7)
        #expect(EventFilter.parseBatch("37") == nil)
    }
}
