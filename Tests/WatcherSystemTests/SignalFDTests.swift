#if canImport(Glibc)
import Glibc
#endif
import XCTest
import WatcherSystem

final class SignalFDTests: XCTestCase {
    func testReceivesRaisedSignal() throws {
        // raise() directs the signal at this thread, which the SignalFD blocks it
        // in, so no other thread of the test runner can take it.
        let signals = try SignalFD(signals: [SIGUSR1, SIGUSR2])
        defer { try? Signals.unblock([SIGUSR1, SIGUSR2]) }
        XCTAssertEqual(try signals.read(), [])
        XCTAssertEqual(raise(SIGUSR1), 0)
        XCTAssertEqual(try Poller.wait([signals.fileDescriptor], timeoutMilliseconds: 30_000), [signals.fileDescriptor])
        XCTAssertEqual(try signals.read(), [SIGUSR1])
        XCTAssertEqual(raise(SIGUSR2), 0)
        XCTAssertEqual(raise(SIGUSR1), 0)
        XCTAssertEqual(Set(try signals.read()), [SIGUSR1, SIGUSR2])
        XCTAssertEqual(try Poller.wait([signals.fileDescriptor], timeoutMilliseconds: 0), [])
    }
}

final class PollerTests: XCTestCase {
    func testWakePipe() throws {
        let pipe = try WakePipe()
        XCTAssertEqual(try Poller.wait([pipe.readFD], timeoutMilliseconds: 0), [])
        pipe.wake()
        pipe.wake()
        XCTAssertEqual(try Poller.wait([pipe.readFD], timeoutMilliseconds: -1), [pipe.readFD])
        pipe.drain()
        XCTAssertEqual(try Poller.wait([pipe.readFD], timeoutMilliseconds: 0), [])
        for _ in 0..<100_000 { pipe.wake() }  // a full pipe is not an error
        pipe.drain()
        XCTAssertEqual(try Poller.wait([pipe.readFD], timeoutMilliseconds: 0), [])
    }

    func testReportsOnlyReadyDescriptors() throws {
        let a = try WakePipe()
        let b = try WakePipe()
        b.wake()
        XCTAssertEqual(try Poller.wait([a.readFD, b.readFD], timeoutMilliseconds: 1000), [b.readFD])
    }

    func testClosedDescriptorThrows() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        close(fds[0])
        close(fds[1])
        XCTAssertThrowsError(try Poller.wait([fds[0]], timeoutMilliseconds: 0)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .badFileDescriptor)
        }
    }

    func testSubMillisecondTimeout() throws {
        let pipe = try WakePipe()
        // ppoll takes the timeout in nanoseconds: 300 µs is not rounded up to a whole millisecond.
        var shortest = UInt64.max
        for _ in 0..<20 {
            let start = Clock.monotonicNanoseconds()
            XCTAssertEqual(try Poller.wait([pipe.readFD], timeoutNanoseconds: 300_000), [])
            let waited = Clock.monotonicNanoseconds() - start
            XCTAssertGreaterThanOrEqual(waited, 300_000, "the wait never ends before its timeout")
            shortest = min(shortest, waited)
        }
        XCTAssertLessThan(shortest, 1_000_000, "the shortest of 20 waits of 300 µs took a whole millisecond: rounded up")
        pipe.wake()
        XCTAssertEqual(try Poller.wait([pipe.readFD], timeoutNanoseconds: -1), [pipe.readFD])
    }

    func testTimeoutUntilDeadline() {
        XCTAssertEqual(Poller.timeout(untilMonotonic: nil, now: 5), -1)
        XCTAssertEqual(Poller.timeout(untilMonotonic: 5, now: 5), 0)
        XCTAssertEqual(Poller.timeout(untilMonotonic: 5, now: 9), 0)
        XCTAssertEqual(Poller.timeout(untilMonotonic: 1_000_001, now: 0), 2)
        XCTAssertEqual(Poller.timeout(untilMonotonic: 3_000_000, now: 1_000_000), 2)
    }
}
