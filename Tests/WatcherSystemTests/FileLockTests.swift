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
        XCTAssertEqual(try FileLock.holder(path), getpid())
        XCTAssertThrowsError(try FileLock.acquire(path)) { error in
            XCTAssertEqual(error as? FileLock.Error, .held(path: path))
        }
        XCTAssertEqual(try readText(path), "\(getpid())\n", "asking who holds it wrote nothing")
        first.release()
        first.release()
        XCTAssertNil(try FileLock.holder(path), "released: nobody holds it")
        XCTAssertNil(try FileLock.holder(tmp.file("absent")), "no file: nobody holds it")
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
