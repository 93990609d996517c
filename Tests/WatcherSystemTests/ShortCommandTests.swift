import Glibc
import XCTest
import WatcherSystem

/// `ShortCommand` (scancel, squeue) and `FileSystem.networkFilesystem` (the default of `reconcileSeconds`).
final class ShortCommandTests: XCTestCase {
    func testAShortCommandsOutputAndStatusAreReturned() throws {
        let ok = try ShortCommand.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
        XCTAssertEqual(ok.status, .exited(3))
        XCTAssertEqual(ok.output, "out\nerr\n", "stdout and stderr both")
        XCTAssertThrowsError(try ShortCommand.run(["/nonexistent/scancel"]), "a missing program is an error, not an empty answer")
    }

    func testLocalFilesystemsAreNotNetworkOnes() throws {
        XCTAssertNil(try FileSystem.networkFilesystem("/tmp"))
        XCTAssertNil(try FileSystem.networkFilesystem("/proc"))
        XCTAssertThrowsError(try FileSystem.networkFilesystem("/nonexistent/mailbox"))
    }
}
