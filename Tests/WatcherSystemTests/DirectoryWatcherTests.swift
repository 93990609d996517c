#if canImport(Glibc)
import Glibc
#endif
import XCTest
import WatcherSystem

final class DirectoryWatcherTests: XCTestCase {
    private var tmp: TemporaryDirectory!
    private var root: String { tmp.path }

    override func setUpWithError() throws {
        tmp = try TemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try tmp.remove()
    }

    private func makeWatcher() throws -> DirectoryWatcher {
        try DirectoryWatcher(ignoring: { $0.hasPrefix(".") })
    }

    func testInitialScanFindsExistingFilesAtEveryDepth() throws {
        try FileSystem.createDirectory(tmp.file("a/b"))
        try writeFile(tmp.file("top.json"), "1")
        try writeFile(tmp.file("a/b/deep.json"), "2")
        try writeFile(tmp.file(".hidden"), "3")
        try FileSystem.createDirectory(tmp.file(".staging"))
        try writeFile(tmp.file(".staging/inside.json"), "4")
        let watcher = try makeWatcher()
        let found = try watcher.watchTree(root + "/")
        XCTAssertEqual(Set(found), [.found(tmp.file("top.json")), .found(tmp.file("a/b/deep.json"))])
        XCTAssertEqual(watcher.watchedDirectories, [root, tmp.file("a"), tmp.file("a/b")])
    }

    func testFileWrittenInPlaceIsClosedWrite() throws {
        let watcher = try makeWatcher()
        XCTAssertEqual(try watcher.watchTree(root), [])
        let path = tmp.file("out.json")
        try writeFile(path, "{}")
        let events = try collectEvents(watcher) { $0.contains(.closedWrite(path)) }
        XCTAssertEqual(events, [.closedWrite(path)])
    }

    func testRenameFromSiblingTmpFolderIsMovedIn() throws {
        try FileSystem.createDirectory(tmp.file("outbox"))
        try FileSystem.createDirectory(tmp.file("tmp"))
        let watcher = try makeWatcher()
        _ = try watcher.watchTree(tmp.file("outbox"))
        try writeFile(tmp.file("tmp/batch.json"), "{}")
        try FileSystem.rename(tmp.file("tmp/batch.json"), tmp.file("outbox/batch.json"))
        let target = tmp.file("outbox/batch.json")
        let events = try collectEvents(watcher) { $0.contains(.movedIn(target)) }
        XCTAssertEqual(events, [.movedIn(target)])
    }

    func testFileInNewSubfolderIsReported() throws {
        let watcher = try makeWatcher()
        _ = try watcher.watchTree(root)
        // No pause between mkdir and the write: the watcher may see the file by
        // its scan of the new folder, by the close, or both.
        try FileSystem.createDirectory(tmp.file("new/deeper"))
        let path = tmp.file("new/deeper/f.json")
        try writeFile(path, "x")
        let events = try collectEvents(watcher) { $0.contains(.found(path)) || $0.contains(.closedWrite(path)) }
        XCTAssertTrue(events.contains(.found(path)) || events.contains(.closedWrite(path)), "\(events)")
        XCTAssertTrue(watcher.watchedDirectories.contains(tmp.file("new/deeper")))
        // The new folder is watched for later writes too.
        let later = tmp.file("new/deeper/later.json")
        try writeFile(later, "y")
        XCTAssertTrue(try collectEvents(watcher) { $0.contains(.closedWrite(later)) }.contains(.closedWrite(later)))
    }

    func testIgnoredNamesProduceNothing() throws {
        let watcher = try makeWatcher()
        _ = try watcher.watchTree(root)
        try writeFile(tmp.file(".out.json.tmp-1-1"), "ignored")
        try FileSystem.createDirectory(tmp.file(".staging"))
        try writeFile(tmp.file(".staging/inside.json"), "ignored")
        try FileSystem.rename(tmp.file(".out.json.tmp-1-1"), tmp.file(".renamed"))
        // Events arrive in order: once the sentinel is seen, anything about the
        // ignored names would have been seen too.
        let sentinel = tmp.file("sentinel")
        try writeFile(sentinel, "")
        let events = try collectEvents(watcher) { $0.contains(.closedWrite(sentinel)) }
        XCTAssertEqual(events, [.closedWrite(sentinel)])
        XCTAssertFalse(watcher.watchedDirectories.contains(tmp.file(".staging")))
    }

    func testDeletedSubfolderIsGone() throws {
        try FileSystem.createDirectory(tmp.file("sub"))
        let watcher = try makeWatcher()
        _ = try watcher.watchTree(root)
        try FileSystem.removeDirectory(tmp.file("sub"))
        let events = try collectEvents(watcher) { $0.contains(.directoryGone(tmp.file("sub"))) }
        XCTAssertEqual(events, [.directoryGone(tmp.file("sub"))])
        XCTAssertEqual(watcher.watchedDirectories, [root])
    }

    func testFolderMovedWithinTheTreeKeepsBeingWatchedAtItsNewPath() throws {
        try FileSystem.createDirectory(tmp.file("a/inner"))
        let watcher = try makeWatcher()
        _ = try watcher.watchTree(root)
        try FileSystem.rename(tmp.file("a"), tmp.file("b"))
        let path = tmp.file("b/inner/f.json")
        try writeFile(path, "x")
        let events = try collectEvents(watcher) { $0.contains(.closedWrite(path)) }
        // The scan of the moved-in folder may also have found the file already.
        XCTAssertEqual(Set(events).subtracting([.found(path)]), [.closedWrite(path)])
        XCTAssertEqual(watcher.watchedDirectories, [root, tmp.file("b"), tmp.file("b/inner")])
    }

    func testFolderMovedOutOfTheTreeIsGone() throws {
        let outside = try TemporaryDirectory()
        defer { try? outside.remove() }
        try FileSystem.createDirectory(tmp.file("a/inner"))
        let watcher = try makeWatcher()
        _ = try watcher.watchTree(root)
        try FileSystem.rename(tmp.file("a"), outside.file("a"))
        let events = try collectEvents(watcher) { $0.contains(.directoryGone(tmp.file("a"))) }
        XCTAssertEqual(events, [.directoryGone(tmp.file("a"))])
        XCTAssertEqual(watcher.watchedDirectories, [root])
    }

    func testOverflowIsTranslatedAndRescanFindsEverything() throws {
        let watcher = try makeWatcher()
        _ = try watcher.watchTree(root)
        // A real queue overflow needs 16384 queued events; the translation is
        // tested with the synthetic event the kernel would queue.
        XCTAssertEqual(try watcher.process([InotifyEvent(watch: -1, mask: .queueOverflow)]), [.overflow])
        try FileSystem.createDirectory(tmp.file("x/y"))
        try writeFile(tmp.file("x/y/f"), "1")
        try writeFile(tmp.file("g"), "2")
        let found = try watcher.rescan()
        XCTAssertEqual(Set(found), [.found(tmp.file("x/y/f")), .found(tmp.file("g"))])
        XCTAssertEqual(watcher.watchedDirectories, [root, tmp.file("x"), tmp.file("x/y")])
    }

    func testEventsForUnknownWatchesAreDropped() throws {
        let watcher = try makeWatcher()
        _ = try watcher.watchTree(root)
        XCTAssertEqual(try watcher.process([InotifyEvent(watch: 9999, mask: .closeWrite, name: "x")]), [])
    }
}
