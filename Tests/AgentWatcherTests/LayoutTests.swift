import Testing
@testable import AgentWatcher
import WatcherCore

/// Paths under the root: strings only, no disk.
struct LayoutTests {
    @Test func responderFilesAreOneDotBeforeTheirEnding() {
        let layout = Layout(root: "/r/")
        #expect(layout.responderFile(responder: "ping", message: "t-1", attempt: 1, "log") == "/r/logs/responders/ping/t-1-1.log")
        #expect(layout.responderFile(responder: "ping", message: "t-1", attempt: 2, "prompt.md")
                == "/r/logs/responders/ping/t-1-2.prompt.md")
        for ending in ["prompt.md", "stdout", "log", "reply"] {
            #expect(!layout.responderFile(responder: "p", message: "m", attempt: 1, ending).contains(".."))
        }
    }
}
