#if canImport(Glibc)
import Glibc
#endif
import XCTest
import WatcherSystem

final class AtomicFileTests: XCTestCase {
    private var tmp: TemporaryDirectory!

    override func setUpWithError() throws {
        tmp = try TemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try tmp.remove()
    }

    func testWritesContentLeavesNoTempAndCallsHookInOrder() throws {
        let path = tmp.file("main.json")
        var steps: [AtomicFile.Step] = []
        try AtomicFile.replace(path, with: Array("hello".utf8), faultHook: { steps.append($0) })
        XCTAssertEqual(try readText(path), "hello")
        XCTAssertEqual(steps, [.tempWritten, .tempSynced, .renamed, .directorySynced])
        XCTAssertEqual(try FileSystem.listDirectory(tmp.path).map(\.name), ["main.json"])
        XCTAssertEqual(try FileSystem.lstat(path).permissions & 0o600, 0o600)
    }

    func testReplacesExistingFile() throws {
        let path = tmp.file("main.json")
        try writeFile(path, "old contents, longer than the new ones")
        let before = try FileSystem.lstat(path).inode
        try AtomicFile.replace(path, with: "new")
        XCTAssertEqual(try readText(path), "new")
        XCTAssertNotEqual(try FileSystem.lstat(path).inode, before, "replaced by rename, not rewritten")
    }

    func testTempIsInSameDirectoryWithRecognisedName() throws {
        let path = tmp.file("main.json")
        var seen: [String] = []
        try AtomicFile.replace(path, with: "x", faultHook: { step in
            if step == .tempSynced {
                seen = (try? FileSystem.listDirectory(self.tmp.path).map(\.name)) ?? []
            }
        })
        XCTAssertEqual(seen.count, 1)
        XCTAssertTrue(seen[0].hasPrefix(".main.json.tmp-\(getpid())-"), seen[0])
        XCTAssertTrue(AtomicFile.isTempName(seen[0]))
    }

    func testFailureRemovesTempAndLeavesTargetAlone() throws {
        // The target is a non-empty directory: the rename fails.
        let path = tmp.file("target")
        try FileSystem.createDirectory(path)
        try writeFile(tmp.file("target/keep"), "k")
        XCTAssertThrowsError(try AtomicFile.replace(path, with: "x")) { error in
            XCTAssertTrue(error is SystemError, "\(error)")
        }
        XCTAssertEqual(try FileSystem.listDirectory(tmp.path).map(\.name), ["target"])
        XCTAssertEqual(try readText(tmp.file("target/keep")), "k")
    }

    func testMissingDirectoryThrowsOpenError() throws {
        XCTAssertThrowsError(try AtomicFile.replace(tmp.file("no/such/file"), with: "x")) { error in
            guard let error = error as? SystemError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.operation, "open")
            XCTAssertEqual(error.errno, .noSuchFile)
        }
    }

    func testTempNames() {
        XCTAssertTrue(AtomicFile.isTempName(".main.json.tmp-123-4"))
        XCTAssertTrue(AtomicFile.isTempName(".a.tmp-1-1.tmp-2-3"))
        XCTAssertFalse(AtomicFile.isTempName("main.json.tmp-123-4"))
        XCTAssertFalse(AtomicFile.isTempName("..tmp-1-2"))
        XCTAssertFalse(AtomicFile.isTempName(".main.json.tmp-123"))
        XCTAssertFalse(AtomicFile.isTempName(".main.json.tmp-12a-4"))
        XCTAssertFalse(AtomicFile.isTempName(".main.json.tmp--4"))
        XCTAssertFalse(AtomicFile.isTempName(".main.json"))
    }

    func testRemoveStaleTemps() throws {
        try writeFile(tmp.file(".main.json.tmp-999999-1"), "stale")
        try writeFile(tmp.file("main.json"), "kept")
        try writeFile(tmp.file(".other"), "kept")
        let removed = try AtomicFile.removeStaleTemps(in: tmp.path)
        XCTAssertEqual(removed, [tmp.file(".main.json.tmp-999999-1")])
        XCTAssertEqual(Set(try FileSystem.listDirectory(tmp.path).map(\.name)), ["main.json", ".other"])
    }
}

final class AtomicFilePrefixTests: XCTestCase {
    func testTheNewFileIsThePrefixOfTheOldOneThenTheNewBytes() throws {
        let tmp = try TemporaryDirectory()
        defer { try? tmp.remove() }
        let path = tmp.file("main.json")
        let old = (0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        for prefix in [0, 1, 5000, 3 << 20] {
            try AtomicFile.replace(path, with: old)
            let source = try FileDescriptor.open(path, O_RDONLY)
            let rest = Array("tail bytes\n".utf8)
            let status = try AtomicFile.replace(path, prefix: prefix, of: source, then: rest)
            let now = try FileSystem.readFile(path)
            XCTAssertEqual(now, Array(old[..<prefix]) + rest, "prefix \(prefix)")
            XCTAssertEqual(status.size, Int64(now.count))
            XCTAssertEqual(status.inode, try FileSystem.lstat(path).inode, "the status of the file now at the name")
            XCTAssertEqual(try source.readAll(), old, "the old file, still open, is untouched")
            XCTAssertEqual(try FileSystem.listDirectory(tmp.path).map(\.name), ["main.json"], "no temp left")
        }
    }
}
