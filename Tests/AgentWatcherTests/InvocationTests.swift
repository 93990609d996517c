import XCTest
import AgentWatcher

/// The demo's hints name a command that works from where the user is.
final class InvocationTests: XCTestCase {
    func testSwiftRunInsideThePackageElseThePath() {
        XCTAssertEqual(Invocation.command(executable: "/src/aw/.build/debug/agent-watcher", cwd: "/src/aw"), "swift run agent-watcher")
        XCTAssertEqual(Invocation.command(executable: "/src/aw/.build/debug/agent-watcher", cwd: "/home/me"),
                       "swift run --package-path /src/aw agent-watcher")
        XCTAssertEqual(Invocation.command(executable: "/home/me/.local/bin/agent-watcher", cwd: "/src/aw"), "/home/me/.local/bin/agent-watcher")
    }
}
