import Foundation
import Glibc
import WatcherSystem
import XCTest

/// The dashboard in a real browser: headless Chromium driven by Selenium
/// (`Browser/dashboard_browser.py`), against a daemon running fake agents. Skipped, with the
/// reason, when Chromium, chromedriver or python3-selenium is missing.
final class DashboardBrowserTests: EndToEndTestCase {
    static let python = "/usr/bin/python3"

    func requireBrowser() throws {
        for p in ["/usr/bin/chromium", "/usr/bin/chromedriver", DashboardBrowserTests.python] where access(p, X_OK) != 0 {
            throw XCTSkip("browser test skipped: \(p) is missing (apt-get install chromium chromium-driver python3-selenium)")
        }
        let sandbox = try makeSandbox("seleniumprobe")
        let probe = try ChildProcess(argv: [DashboardBrowserTests.python, "-c", "import selenium"], outputBase: sandbox.root + "/e2e/probe")
        guard try probe.finish(within: 30) == .exited(0) else {
            throw XCTSkip("browser test skipped: python3 cannot import selenium (apt-get install python3-selenium): \(probe.stderr)")
        }
    }

    func testPagesInHeadlessChromium() throws {
        try requireBrowser()
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "web", batchSize: 2, phases: [Fixtures.objectPhase("1", file: "out/1.json")],
                                 overrides: ["concurrency": 4, "maxAttempts": 1, "timeoutSeconds": 300])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 8, agentBody: #"""
        case $batch in
          1) echo '<script>alert(1)</script>'; object_batch $start $end | publish "$out" ;;
          2) echo "batch 2 started"; read -r line < ./live.fifo; printf '%s\n' "$line"; sleep 300 ;;
          3) echo 'no luck'; exit 3 ;;
          4) printf '%s\n' '{"results": {"i7": {"id":"i7","value":7,"word":"w7"}, "i8": {"id":"i8","value":8,"word":"w8"}, "\"><img src=x onerror=alert(1)>": {"id":"\"><img src=x onerror=alert(1)>","value":0,"word":"x"}}}' | publish "$out" ;;
        esac
        """#)
        XCTAssertEqual(mkfifo(sandbox.path("live.fifo"), 0o600), 0, "the fifo batch 2's agent reads its second line from")
        let started = try sandbox.run(["run", "--daemon", "--pipeline", path, "--root", sandbox.root], within: 60)
        XCTAssertEqual(started.exitCode, 0, started.stderr)
        let pid = try XCTUnwrap(pid_t(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), started.stdout)
        defer {
            _ = try? sandbox.run(["stop", "--root", sandbox.root], within: 30) // cleanup; the assertions are above
            if ProcessControl.isAlive(pid) { _ = try? ProcessControl.signal(pid, SIGKILL) }
        }
        for (batch, to) in [(1, "merged"), (2, "running"), (3, "failed"), (4, "failed")] {
            try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30)) { $0.isTransition(phase: "1", batch: batch, to: to) }
        }
        let sent = try sandbox.run(["send", "--to", "reviewer", "--from", "translator", "--type", "query",
                                    "--body", #"{"text":"<b>look</b>"}"#, "--root", sandbox.root])
        XCTAssertEqual(sent.exitCode, 0, sent.stderr)
        let second = try sandbox.run(["send", "--to", "editor", "--from", "reviewer", "--type", "feedback", "--run", "web", "--phase", "1",
                                      "--batch", "3", "--body", #"{"text":"<img src=x onerror=alert(3)> fix item i5"}"#, "--root", sandbox.root])
        XCTAssertEqual(second.exitCode, 0, second.stderr)
        for to in ["reviewer", "editor"] {
            try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30)) { $0.event == "message.delivered" && $0.to == to }
        }
        let d = try DashboardProcess.start(sandbox)
        let shots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/dashboard-shots").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Browser/dashboard_browser.py").path
        let browser = try ChildProcess(argv: [DashboardBrowserTests.python, script, d.url, sandbox.root, "web", shots],
                                       outputBase: sandbox.root + "/e2e/browser")
        let status = try browser.finish(within: 180)
        print(browser.stdout)
        XCTAssertEqual(status, .exited(0), "browser checks failed:\n\(browser.stdout)\n\(browser.stderr)")
        XCTAssertTrue(browser.stdout.hasSuffix("OK\n"), browser.stdout)
        for page in ["overview", "run", "run-running", "messages-filtered", "batch", "batch-live", "batch-hostile", "batch-retried", "timeline", "messages", "events"] {
            XCTAssertTrue(FileSystem.exists(shots + "/\(page).png"), "screenshot of \(page)")
        }
        let applied = try EventLog.read(sandbox.eventLog).filter { $0.event == "control.applied" }
        XCTAssertEqual(applied.count, 1, "the click on retry reached the daemon")
        XCTAssertFalse(try d.child.hasExited())
    }
}
