#if canImport(Glibc)
import Glibc
#endif
import XCTest
import WatcherSystem

final class SafeFileTests: XCTestCase {
    private var tmp: TemporaryDirectory!

    override func setUpWithError() throws {
        tmp = try TemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try tmp.remove()
    }

    func testRegularFile() throws {
        let path = tmp.file("batch.json")
        try writeFile(path, "{\"a\":1}")
        guard case .contents(let bytes, let status) = SafeFile.readDropped(path, limit: 100) else {
            return XCTFail("\(SafeFile.readDropped(path, limit: 100))")
        }
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "{\"a\":1}")
        XCTAssertEqual(status.size, 7)
        XCTAssertEqual(status.kind, .regular)
    }

    func testExactlyAtTheLimitIsRead() throws {
        let path = tmp.file("f")
        try writeFile(path, "12345")
        guard case .contents(let bytes, _) = SafeFile.readDropped(path, limit: 5) else { return XCTFail() }
        XCTAssertEqual(bytes.count, 5)
    }

    func testSymlinkRefused() throws {
        let target = tmp.file("target")
        try writeFile(target, "x")
        XCTAssertEqual(symlink(target, tmp.file("link")), 0)
        XCTAssertEqual(SafeFile.readDropped(tmp.file("link"), limit: 100), .refused(.symlink))
    }

    func testFIFORefusedWithoutBlocking() throws {
        let path = tmp.file("fifo")
        XCTAssertEqual(mkfifo(path, 0o644), 0)
        // No writer ever opens it: a blocking open or read would hang here.
        XCTAssertEqual(SafeFile.readDropped(path, limit: 100), .refused(.fifo))
    }

    func testDirectoryAndDeviceRefused() throws {
        try FileSystem.createDirectory(tmp.file("dir"))
        XCTAssertEqual(SafeFile.readDropped(tmp.file("dir"), limit: 100), .refused(.directory))
        XCTAssertEqual(SafeFile.readDropped("/dev/null", limit: 100), .refused(.device))
    }

    func testOversizeRefused() throws {
        let path = tmp.file("big")
        try writeFile(path, String(repeating: "x", count: 101))
        let outcome = SafeFile.readDropped(path, limit: 100)
        XCTAssertEqual(outcome, .refused(.tooLarge(size: 101, limit: 100)))
        XCTAssertEqual(SafeFile.Refusal.tooLarge(size: 101, limit: 100).description, "is 101 bytes, over the 100-byte limit")
    }

    func testVanished() {
        XCTAssertEqual(SafeFile.readDropped(tmp.file("nothing-here"), limit: 100), .vanished)
    }

    func testUnreadableFails() throws {
        guard geteuid() != 0 else { return }  // root reads anything
        let path = tmp.file("secret")
        try writeFile(path, "x")
        XCTAssertEqual(chmod(path, 0), 0)
        guard case .failed(let error) = SafeFile.readDropped(path, limit: 100) else { return XCTFail() }
        XCTAssertEqual(error.errno, .permissionDenied)
    }
}
