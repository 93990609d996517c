#if canImport(Glibc)
import Glibc
#endif
import XCTest
import WatcherSystem

/// Paths resolved beneath a root never follow a symbolic link at any component.
final class RootDirectoryTests: XCTestCase {
    private var tmp: TemporaryDirectory!
    private var outside: TemporaryDirectory!

    override func setUpWithError() throws {
        tmp = try TemporaryDirectory()
        outside = try TemporaryDirectory()
        try writeFile(outside.file("secret"), "outside\n")
        try FileSystem.createDirectory(tmp.file("real"))
        XCTAssertEqual(symlink(outside.path, tmp.file("link")), 0)
        XCTAssertEqual(symlink(outside.file("secret"), tmp.file("real/file-link")), 0)
    }

    override func tearDownWithError() throws {
        try tmp.remove()
        try outside.remove()
    }

    func testRelativePaths() throws {
        let root = try RootDirectory(tmp.path)
        XCTAssertEqual(try root.relative(tmp.path), "")
        XCTAssertEqual(try root.relative(tmp.path + "/"), "")
        XCTAssertEqual(try root.relative(tmp.file("a/b.json")), "a/b.json")
        XCTAssertEqual(try root.relative("a/b"), "a/b")
        XCTAssertEqual(try root.relative(tmp.path + "//a/./b/"), "a/b", "empty and . components dropped")
        XCTAssertEqual(try root.relative("a/.b/..c/..."), "a/.b/..c/...", "names made of dots that are not . or ..")
        for outsider in [tmp.path + "x/a", "/elsewhere/a", tmp.file("a/../b"), "../a", "a/.."] {
            XCTAssertThrowsError(try root.relative(outsider), outsider) { XCTAssertTrue(Errno.crossDevice ~= $0, "\($0)") }
        }
        try writeFile(tmp.file("real/f"), "x")
        XCTAssertEqual(try root.lstat(tmp.file("real/f")).size, 1)
        XCTAssertEqual(try root.lstat("real/f").size, 1)
    }

    func testASymlinkedFolderIsNeverFollowed() throws {
        let root = try RootDirectory(tmp.path)
        XCTAssertThrowsError(try root.open(tmp.file("link/secret"), O_RDONLY)) { XCTAssertTrue(Errno.tooManySymlinks ~= $0, "\($0)") }
        XCTAssertThrowsError(try root.createNew(tmp.file("link/new"), with: [1])) { XCTAssertTrue(Errno.tooManySymlinks ~= $0, "\($0)") }
        XCTAssertThrowsError(try root.createDirectory(tmp.file("link/sub")))
        XCTAssertFalse(FileSystem.exists(outside.file("new")))
        XCTAssertFalse(FileSystem.exists(outside.file("sub")))
        XCTAssertEqual(root.symlinkedComponent(of: tmp.file("link/secret")), tmp.file("link"))
        XCTAssertNil(root.symlinkedComponent(of: tmp.file("real/x")))
    }

    func testALinkAtTheLastComponentIsNotFollowedAndReplaceDoesNotWriteThrough() throws {
        let root = try RootDirectory(tmp.path)
        XCTAssertThrowsError(try root.open(tmp.file("real/file-link"), O_WRONLY)) { XCTAssertTrue(Errno.tooManySymlinks ~= $0, "\($0)") }
        try root.replace(tmp.file("real/file-link"), with: Array("mine".utf8), tempName: ".t-1")
        XCTAssertEqual(try readText(outside.file("secret")), "outside\n")
        XCTAssertEqual(try FileSystem.lstat(tmp.file("real/file-link")).kind, .regular)
    }

    func testDotDotAndPathsOutsideAreRefused() throws {
        let root = try RootDirectory(tmp.path)
        XCTAssertThrowsError(try root.open(tmp.file("real/../../x"), O_RDONLY)) { XCTAssertTrue(Errno.crossDevice ~= $0, "\($0)") }
        XCTAssertThrowsError(try root.open(outside.file("secret"), O_RDONLY)) { XCTAssertTrue(Errno.crossDevice ~= $0, "\($0)") }
    }

    func testCreateNewNeverReplacesAndRenameNoReplaceKeepsTheTarget() throws {
        let root = try RootDirectory(tmp.path)
        try root.createDirectory(tmp.file("real/a/b"))
        try root.createNew(tmp.file("real/a/b/f"), with: Array("one".utf8))
        XCTAssertThrowsError(try root.createNew(tmp.file("real/a/b/f"), with: Array("two".utf8))) { XCTAssertTrue(Errno.exists ~= $0) }
        try writeFile(tmp.file("real/g"), "g")
        XCTAssertThrowsError(try root.renameNoReplace(tmp.file("real/g"), tmp.file("real/a/b/f"))) { XCTAssertTrue(Errno.exists ~= $0) }
        XCTAssertEqual(try readText(tmp.file("real/a/b/f")), "one")
        try root.renameNoReplace(tmp.file("real/g"), tmp.file("real/a/g"))
        XCTAssertEqual(try readText(tmp.file("real/a/g")), "g")
    }

    func testHardLinkedDroppedFilesAreRefused() throws {
        let root = try RootDirectory(tmp.path)
        XCTAssertEqual(link(outside.file("secret"), tmp.file("real/hard")), 0)
        XCTAssertEqual(SafeFile.readDropped(tmp.file("real/hard"), beneath: root, limit: 100), .refused(.hardLinked(links: 2)))
        XCTAssertEqual(SafeFile.readDropped(tmp.file("link/secret"), beneath: root, limit: 100), .refused(.symlinkedFolder(tmp.file("link"))))
    }

    func testTaggedTempsAreTheOnlyOnesSwept() throws {
        try writeFile(tmp.file("real/.main.json.tmp-00aa-1-2"), "ours")
        try writeFile(tmp.file("real/.main.json.tmp-00bb-1-2"), "another tag")
        try writeFile(tmp.file("real/.main.json.tmp-1-2"), "untagged look-alike")
        let removed = try AtomicFile.removeStaleTemps(in: tmp.file("real"), tags: ["00aa"])
        XCTAssertEqual(removed, [tmp.file("real/.main.json.tmp-00aa-1-2")])
        XCTAssertEqual(try FileSystem.listDirectory(tmp.file("real")).map(\.name).sorted(),
                       [".main.json.tmp-00bb-1-2", ".main.json.tmp-1-2", "file-link"])
    }
}
