#if canImport(Glibc)
import Glibc
#endif
import XCTest
import WatcherSystem

final class FileLockTests: XCTestCase {
    func testSecondAcquireIsHeldUntilRelease() throws {
        let tmp = try TemporaryDirectory()
        defer { try? tmp.remove() }
        let path = tmp.file(".lock")
        let first = try FileLock.acquire(path)
        XCTAssertEqual(try readText(path), "\(getpid())\n")
        XCTAssertEqual(FileLock.recordedHolder(path), getpid())
        XCTAssertThrowsError(try FileLock.acquire(path)) { error in
            XCTAssertEqual(error as? FileLock.Error, .held(path: path))
        }
        first.release()
        first.release()
        let second = try FileLock.acquire(path)
        second.release()
    }

    func testDroppingTheLockReleasesIt() throws {
        let tmp = try TemporaryDirectory()
        defer { try? tmp.remove() }
        let path = tmp.file(".lock")
        do {
            _ = try FileLock.acquire(path)
        }
        XCTAssertNoThrow(try FileLock.acquire(path).release())
    }
}
