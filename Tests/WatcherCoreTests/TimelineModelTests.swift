import WatcherCore
import XCTest

final class TimelineModelTests: XCTestCase {
    /// A transition at `t` seconds after 08:00:00.
    func at(_ seq: UInt64, _ t: Double, _ phase: String, _ batch: Int, attempt: Int = 1, to: String) -> EventRecord {
        let whole = Int(t), ms = Int(((t - Double(whole)) * 1000).rounded())
        let ts = "2026-11-21T08:\(String(format2: whole / 60)):\(String(format2: whole % 60)).\(String(format3: ms))000Z"
        return EventRecord(seq: seq, ts: ts, event: Event(event: EventName.transition, run: "r", phase: phase, batch: batch,
                                                          attempt: attempt, from: "x", to: to))
    }

    func model(_ records: [EventRecord], concurrency: Int, end: Double, phases: [String]) -> TimelineModel? {
        let plan = RunPlan(run: "r", phases: phases.map { RunPlan.Phase(id: $0) }, itemCount: 4, batchSize: 2, concurrency: concurrency)
        return TimelineModel.build(spans: AttemptSpans.collect(records), concurrency: concurrency,
                                   end: (EventFormatter.seconds("2026-11-21T08:00:00.000000Z") ?? 0) + end,
                                   dependency: plan.dependency(of:))
    }

    func names(_ bars: [TimelineModel.Bar]) -> [String] { bars.map { "\($0.span.id.phase)/\($0.span.id.index)#\($0.span.attempt)" } }

    /// Two phases, concurrency 2: 1/2 fails once and is retried after a pause; phase 2 waits
    /// for its phase-1 batch. The path ends with 2/1 (the last to end) and goes back to 1/1.
    func testCriticalPathFollowsDependenciesAndIdleSlotsAreFound() throws {
        let log = [
            at(1, 0, "1", 1, to: "spawning"), at(2, 0, "1", 2, to: "spawning"),
            at(3, 4, "1", 2, to: "retry_wait"),
            at(4, 6, "1", 2, attempt: 2, to: "spawning"),
            at(5, 10, "1", 1, to: "merged"),
            at(6, 10.1, "2", 1, to: "spawning"),
            at(7, 12, "1", 2, attempt: 2, to: "merged"),
            at(8, 12.1, "2", 2, to: "spawning"),
            at(9, 15, "2", 2, to: "merged"),
            at(10, 20, "2", 1, to: "merged"),
        ]
        let m = try XCTUnwrap(model(log, concurrency: 2, end: 20, phases: ["1", "2"]))
        XCTAssertEqual(m.slots, 2)
        XCTAssertEqual(names(m.bars), ["1/1#1", "1/2#1", "1/2#2", "2/1#1", "2/2#1"])
        XCTAssertEqual(m.bars.map(\.slot), [0, 1, 1, 0, 1])
        XCTAssertEqual(names(m.criticalBars), ["1/1#1", "2/1#1"])
        XCTAssertEqual(m.criticalSeconds, 19.9, accuracy: 0.01)
        let gaps = m.idle.map { "\($0.slot):\(Int((($0.start - m.t0) * 10).rounded()))-\(Int((($0.end - m.t0) * 10).rounded()))" }
        XCTAssertEqual(gaps, ["0:100-101", "1:40-60", "1:120-121", "1:150-200"], "between bars and after the last one, in tenths of a second")
        XCTAssertEqual(m.busyFraction, 1 - (0.1 + 2 + 0.1 + 5) / 40, accuracy: 0.001)
    }

    /// Concurrency 1, one phase: the second batch waited for the slot the first one freed.
    func testSlotWaitsLinkThePathAndAnUnusedSlotIsIdleThroughout() throws {
        let log = [
            at(1, 0, "1", 1, to: "spawning"), at(2, 5, "1", 1, to: "merged"),
            at(3, 5.01, "1", 2, to: "spawning"), at(4, 9, "1", 2, to: "failed"),
        ]
        let m = try XCTUnwrap(model(log, concurrency: 2, end: 10, phases: ["1"]))
        XCTAssertEqual(m.slots, 2, "a row per concurrency slot even if one is never used")
        XCTAssertEqual(names(m.criticalBars), ["1/1#1", "1/2#1"])
        XCTAssertEqual(m.idle.filter { $0.slot == 1 }.map { $0.end - $0.start }, [10], "the unused slot is idle all along")
        XCTAssertNil(model([], concurrency: 1, end: 0, phases: ["1"]), "nothing to draw before the first attempt")
    }

    /// An attempt still running reaches the axis's end and can be on the path.
    func testARunningAttemptReachesTheEnd() throws {
        let log = [at(1, 0, "1", 1, to: "spawning"), at(2, 1, "1", 1, to: "running")]
        let m = try XCTUnwrap(model(log, concurrency: 1, end: 30, phases: ["1"]))
        XCTAssertEqual(m.bars.first.map { $0.end - m.t0 } ?? 0, 30, accuracy: 0.001)
        XCTAssertEqual(names(m.criticalBars), ["1/1#1"])
        XCTAssertTrue(m.idle.isEmpty)
    }
}

private extension String {
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : "\(n)" }
    init(format3 n: Int) { self = n < 10 ? "00\(n)" : n < 100 ? "0\(n)" : "\(n)" }
}
