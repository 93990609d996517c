#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem
import XCTest

final class ProcessTreeTests: XCTestCase {
    func testDescendantsAndChildren() {
        let tree = ProcessTree(parents: [2: 1, 3: 2, 4: 3, 5: 2, 6: 1, 7: 6])
        XCTAssertEqual(tree.descendants(of: 2), [3, 4, 5])
        XCTAssertEqual(tree.descendants(of: 4), [])
        XCTAssertEqual(tree.children(of: 1), [2, 6])
    }

    func testTheCurrentTreeHoldsThisProcessUnderItsParent() throws {
        let tree = try ProcessTree.current()
        XCTAssertEqual(tree.parents[getpid()], getppid())
        XCTAssertTrue(tree.descendants(of: getppid()).contains(getpid()))
    }
}
