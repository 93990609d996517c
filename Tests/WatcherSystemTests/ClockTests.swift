import XCTest
import WatcherSystem

final class ClockTests: XCTestCase {
    func testFormat() {
        XCTAssertEqual(Clock.iso8601(seconds: 0, microseconds: 0), "1970-01-01T00:00:00.000000Z")
        XCTAssertEqual(Clock.iso8601(seconds: 1_795_248_000, microseconds: 123_456), "2026-11-21T08:00:00.123456Z")
        XCTAssertEqual(Clock.iso8601(seconds: 951_825_599, microseconds: 7), "2000-02-29T11:59:59.000007Z")
    }

    func testParseRoundTrips() throws {
        let parsed = try XCTUnwrap(Clock.parseISO8601("2026-11-21T08:00:00.123456Z"))
        XCTAssertEqual(parsed.seconds, 1_795_248_000)
        XCTAssertEqual(parsed.microseconds, 123_456)
        let now = Clock.realtime()
        let text = Clock.iso8601(seconds: now.seconds, microseconds: now.microseconds)
        let back = try XCTUnwrap(Clock.parseISO8601(text))
        XCTAssertEqual(back.seconds, now.seconds)
        XCTAssertEqual(back.microseconds, now.microseconds)
    }

    func testParseRejectsOtherShapes() {
        for text in ["2026-11-21T08:00:00Z", "2026-11-21T08:00:00.123Z", "2026-11-21T08:00:00.123456+00:00",
                     "2026-02-30T08:00:00.000000Z", "2026-11-21 08:00:00.123456Z", "2026-11-21T08:00:00.12345xZ", ""] {
            XCTAssertNil(Clock.parseISO8601(text), text)
        }
    }

    func testMonotonicDoesNotGoBack() {
        let a = Clock.monotonicNanoseconds()
        let b = Clock.monotonicNanoseconds()
        XCTAssertLessThanOrEqual(a, b)
        XCTAssertGreaterThan(a, 0)
    }
}
