#if canImport(Glibc)
import Glibc
#endif
import XCTest
import WatcherSystem

/// `DirectoryWatcher(ignoringPath:)`: the same folder name watched in one place, not in another
/// (the daemon watches `agents/<name>/cur/` for acknowledgements but never `control/cur/`).
final class DirectoryWatcherPathTests: XCTestCase {
    private var tmp: TemporaryDirectory!

    override func setUpWithError() throws { tmp = try TemporaryDirectory() }
    override func tearDownWithError() throws { try tmp.remove() }

    func testAPathPredicateIgnoresOneCurFolderAndWatchesAnother() throws {
        for dir in ["control/cur", "agents/bob/cur", "agents/bob/new"] { try FileSystem.createDirectory(tmp.file(dir)) }
        try writeFile(tmp.file("control/cur/old.json"), "1")
        try writeFile(tmp.file("agents/bob/cur/old.json"), "2")
        let agents = tmp.file("agents")
        let watcher = try DirectoryWatcher(ignoringPath: { path in
            path.hasSuffix("/cur") && !path.hasPrefix(agents + "/")
        })
        let found = try watcher.watchTree(tmp.path)
        XCTAssertEqual(found, [.found(tmp.file("agents/bob/cur/old.json"))])
        XCTAssertFalse(watcher.watchedDirectories.contains(tmp.file("control/cur")))

        try writeFile(tmp.file("control/cur/ignored.json"), "3")
        try writeFile(tmp.file("agents/bob/new/m.json"), "4")
        try FileSystem.rename(tmp.file("agents/bob/new/m.json"), tmp.file("agents/bob/cur/m.json"))
        let target = tmp.file("agents/bob/cur/m.json")
        let events = try collectEvents(watcher) { $0.contains(.movedIn(target)) }
        XCTAssertEqual(events, [.closedWrite(tmp.file("agents/bob/new/m.json")), .movedIn(target)])
    }

    func testTheNamePredicateStillWorks() throws {
        try FileSystem.createDirectory(tmp.file("a/cur"))
        try writeFile(tmp.file("a/cur/x.json"), "1")
        try writeFile(tmp.file("a/y.json"), "2")
        let watcher = try DirectoryWatcher(ignoring: { $0 == "cur" })
        XCTAssertEqual(try watcher.watchTree(tmp.path), [.found(tmp.file("a/y.json"))])
    }
}
