import WatcherCore
import XCTest

final class InstantTests: XCTestCase {
    func testNanosecondsUntilIsExact() {
        let now = Instant(nanoseconds: 1_000_000_000)
        XCTAssertEqual(now.nanoseconds(until: Instant(nanoseconds: 1_000_300_000)), 300_000, "not rounded to a millisecond")
        XCTAssertEqual(now.nanoseconds(until: now), 0)
        XCTAssertEqual(now.nanoseconds(until: Instant(nanoseconds: 5)), 0, "a deadline passed waits for nothing")
        XCTAssertEqual(now.nanoseconds(until: now.adding(milliseconds: 200)), 200_000_000)
        XCTAssertEqual(Instant(nanoseconds: 0).nanoseconds(until: Instant(nanoseconds: .max)), .max, "clamped, not trapped")
    }

    func testMillisecondsUntilRoundsUp() {
        let now = Instant(nanoseconds: 1_000_000_000)
        XCTAssertEqual(now.milliseconds(until: Instant(nanoseconds: 1_000_300_000)), 1)
        XCTAssertEqual(now.milliseconds(until: now), 0)
    }
}
