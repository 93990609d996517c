#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import WatcherSystem

final class ErrnoTests: XCTestCase {
    func testDescriptions() {
        XCTAssertEqual(Errno.noSuchFile.description, "No such file or directory")
        XCTAssertEqual(SystemError(operation: "open", path: "/x/y", errno: .noSuchFile).description,
                       "open(/x/y): No such file or directory")
        XCTAssertEqual(SystemError(operation: "poll", errno: .interrupted).description, "poll: Interrupted system call")
        XCTAssertEqual(Errno.wouldBlock, Errno(rawValue: EWOULDBLOCK))
    }

    func testCatchPatternMatchesSystemErrors() {
        func classify(_ error: Error) -> String {
            do { throw error } catch Errno.noSuchFile { return "missing" } catch { return "other" }
        }
        XCTAssertEqual(classify(SystemError(operation: "open", path: "/x", errno: .noSuchFile)), "missing")
        XCTAssertEqual(classify(Errno.noSuchFile), "missing")
        XCTAssertEqual(classify(Errno.exists), "other")
    }

    func testExitStatus() {
        XCTAssertEqual(ExitStatus(waitStatus: 3 << 8), .exited(3))
        XCTAssertEqual(ExitStatus(waitStatus: 9), .signaled(9))
        XCTAssertEqual(ExitStatus.signaled(SIGKILL).description, "killed by SIGKILL")
        XCTAssertEqual(ExitStatus.signaled(SIGTERM).description, "killed by SIGTERM")
        XCTAssertTrue(ExitStatus.exited(0).isSuccess)
    }

    func testProcStatParsing() throws {
        let line = "1234 (weird) name (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 200\n"
        let fields = try XCTUnwrap(ProcessControl.parseStatFields(line))
        XCTAssertEqual(fields[0], "S")
        XCTAssertEqual(fields[2], "1234")
        XCTAssertEqual(fields[19], "987654")
        XCTAssertNotNil(ProcessControl.startTime(of: getpid()))
        XCTAssertEqual(ProcessControl.processGroup(of: getpid()), getpgrp())
        XCTAssertNil(ProcessControl.startTime(of: 0x3fff_ffff))
    }
}

final class FileSystemTests: XCTestCase {
    private var tmp: TemporaryDirectory!

    override func setUpWithError() throws {
        tmp = try TemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try tmp.remove()
    }

    func testCreateAndListDirectories() throws {
        try FileSystem.createDirectory(tmp.file("a/b/c"))
        try FileSystem.createDirectory(tmp.file("a/b/c"))  // existing is fine
        try writeFile(tmp.file("a/file"), "x")
        XCTAssertEqual(symlink("b", tmp.file("a/link")), 0)
        let entries = try FileSystem.listDirectory(tmp.file("a")).sorted { $0.name < $1.name }
        XCTAssertEqual(entries, [DirectoryEntry(name: "b", kind: .directory),
                                 DirectoryEntry(name: "file", kind: .regular),
                                 DirectoryEntry(name: "link", kind: .symlink)])
        XCTAssertThrowsError(try FileSystem.createDirectory(tmp.file("a/file"))) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .exists)
        }
        XCTAssertThrowsError(try FileSystem.createDirectory(tmp.file("x/y"), intermediates: false))
        XCTAssertThrowsError(try FileSystem.listDirectory(tmp.file("nope"))) { error in
            XCTAssertEqual(error as? SystemError, SystemError(operation: "opendir", path: self.tmp.file("nope"), errno: .noSuchFile))
        }
    }

    func testRenameNoReplace() throws {
        try writeFile(tmp.file("a"), "A")
        try writeFile(tmp.file("b"), "B")
        XCTAssertThrowsError(try FileSystem.renameNoReplace(tmp.file("a"), tmp.file("b"))) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .exists)
        }
        XCTAssertEqual(try readText(tmp.file("b")), "B")
        try FileSystem.renameNoReplace(tmp.file("a"), tmp.file("c"))
        XCTAssertFalse(FileSystem.exists(tmp.file("a")))
        XCTAssertEqual(try readText(tmp.file("c")), "A")
        try FileSystem.rename(tmp.file("c"), tmp.file("b"))
        XCTAssertEqual(try readText(tmp.file("b")), "A")
        try FileSystem.fsyncDirectory(tmp.path)
    }

    func testFileDescriptorOperations() throws {
        let path = tmp.file("f")
        let fd = try FileDescriptor.open(path, O_RDWR | O_CREAT)
        try fd.writeAll("hello world")
        try fd.pwriteAll(Array("J".utf8), offset: 0)
        XCTAssertEqual(try fd.seekToEnd(), 11)
        try fd.truncate(to: 5)
        try fd.fdatasync()
        try fd.fsync()
        let status = try fd.stat()
        XCTAssertEqual(status.size, 5)
        XCTAssertEqual(status.kind, .regular)
        XCTAssertEqual(status.inode, try FileSystem.lstat(path).inode)
        try fd.seek(to: 0)
        XCTAssertEqual(try fd.readAll(), Array("Jello".utf8))
        XCTAssertEqual(try fd.read(upTo: 10), [])
        try fd.close()
        try fd.close()  // second close is a no-op
        XCTAssertEqual(fcntl(fd.rawValue, F_GETFD), -1, "closed")
    }

    func testOpenAddsCloexec() throws {
        let fd = try FileDescriptor.open(tmp.path, O_RDONLY | O_DIRECTORY)
        XCTAssertEqual(fcntl(fd.rawValue, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC)
    }

    func testNonBlockingReadThrowsWouldBlock() throws {
        let pipe = try WakePipe()
        let fd = FileDescriptor(owning: dup(pipe.readFD))
        XCTAssertThrowsError(try fd.read(upTo: 1)) { error in
            XCTAssertTrue(Errno.wouldBlock ~= error)
        }
    }

    func testPathsAndProcessFacts() throws {
        XCTAssertEqual(Path.parent("/a/b/"), "/a")
        XCTAssertEqual(Path.parent("/a"), "/")
        XCTAssertEqual(Path.parent("a"), ".")
        XCTAssertEqual(Path.basename("/a/b.json"), "b.json")
        XCTAssertEqual(Path.join("/a/", "b"), "/a/b")
        XCTAssertTrue(try FileSystem.executablePath().hasPrefix("/"))
        XCTAssertEqual(try FileSystem.realPath(tmp.path + "/./"), try FileSystem.realPath(tmp.path))
        XCTAssertFalse(FileSystem.exists(tmp.file("nothing")))
    }
}
