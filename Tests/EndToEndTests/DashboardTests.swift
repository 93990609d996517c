import Foundation
import Glibc
import WatcherSystem
import XCTest

/// `agent-watcher dashboard` against hostile clients: no token, a foreign Host, a slow dribble,
/// too many connections, a huge body. After each, the server still answers.
final class DashboardTests: EndToEndTestCase {
    func testTokenHostOriginAndMethodChecks() throws {
        let sandbox = try makeSandbox()
        let d = try DashboardProcess.start(sandbox)
        var st = stat()
        XCTAssertEqual(stat(sandbox.path("logs/dashboard.token"), &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600, "the token file is mode 0600")
        XCTAssertEqual(try sandbox.read("logs/dashboard.token"), d.token + "\n")
        XCTAssertEqual(d.token.count, 32, "128 bits as hex")

        let ok = try d.request("GET", "/")
        XCTAssertEqual(ok.status, 200, ok.head)
        XCTAssertTrue(ok.head.contains("Content-Security-Policy: default-src 'none'; script-src 'self'"), ok.head)
        XCTAssertTrue(ok.head.contains("X-Content-Type-Options: nosniff"), ok.head)

        let post = try d.request("POST", "/api/control", headers: ["Content-Type": "application/json"],
                                 body: #"{"command":"pause","run":"x"}"#, token: false)
        XCTAssertEqual(post.status, 403, post.body)
        XCTAssertEqual(try d.request("GET", "/", token: false).status, 403)
        XCTAssertEqual(try d.request("GET", "/", headers: ["Host": "evil.example:\(d.port)"]).status, 421)
        XCTAssertEqual(try d.request("GET", "/", headers: ["Host": "127.0.0.1:1"]).status, 421)
        XCTAssertEqual(try d.request("POST", "/api/control", headers: ["Origin": "http://evil.example", "Content-Type": "application/json"],
                                     body: "{}").status, 403)
        XCTAssertEqual(try d.request("GET", "/api/control").status, 405, "GETs never change state")
        XCTAssertEqual(try d.request("POST", "/api/control", headers: ["Content-Type": "text/plain"], body: "{}").status, 415)
        XCTAssertEqual(try d.request("POST", "/api/control", headers: ["Content-Type": "application/json"], body: #"{"command":"rm"}"#).status, 400)
        XCTAssertEqual(try d.request("GET", "/run/..%2F..%2Fetc").status, 404)
        XCTAssertEqual(try d.request("GET", "/assets/..%2Fpasswd").status, 404)
        // The token in the printed URL sets the cookie and redirects without it.
        let first = try d.request("GET", "/?token=\(d.token)", token: false)
        XCTAssertEqual(first.status, 303)
        XCTAssertTrue(first.head.contains("Set-Cookie: aw_token=\(d.token); Path=/; HttpOnly; SameSite=Strict"), first.head)
        XCTAssertEqual(try d.request("GET", "/", headers: ["Cookie": "aw_token=\(d.token)"], token: false).status, 200)
        // No daemon: a control request changes nothing and says so.
        let none = try d.request("POST", "/api/control", headers: ["Content-Type": "application/json"], body: #"{"command":"pause","run":"x"}"#)
        XCTAssertEqual(none.status, 503, none.body)
        XCTAssertFalse(sandbox.exists("mailbox/control/new"), "nothing dropped without a daemon")
        XCTAssertFalse(try d.child.hasExited())
    }

    func testListeningBeyondLoopbackNeedsAllowRemote() throws {
        let sandbox = try makeSandbox()
        let refused = try sandbox.run(["dashboard", "--root", sandbox.root, "--listen", "0.0.0.0:0"], within: 30)
        XCTAssertEqual(refused.exitCode, 64, refused.stdout)
        XCTAssertTrue(refused.stderr.contains("--allow-remote"), refused.stderr)
        XCTAssertFalse(sandbox.exists("logs/dashboard.token"), "nothing written when refused")
        let bad = try sandbox.run(["dashboard", "--root", sandbox.root, "--listen", "nowhere"], within: 30)
        XCTAssertEqual(bad.exitCode, 64, bad.stdout)
        let remote = try DashboardProcess.start(sandbox, command: ["dashboard", "--root", sandbox.root, "--listen", "0.0.0.0:0", "--allow-remote"])
        XCTAssertEqual(try remote.request("GET", "/api/status").status, 200)
        XCTAssertEqual(try remote.request("GET", "/api/status", headers: ["Host": "elsewhere:1"]).status, 421, "the port must still match")
    }

    func testSlowHeaderDribbleIsCutAtTheDeadline() throws {
        let sandbox = try makeSandbox()
        let d = try DashboardProcess.start(sandbox, ["--header-timeout-ms", "600"])
        let c = try RawHTTPClient(port: d.port)
        let request = Array("GET / HTTP/1.1\r\nHost: \(d.host)\r\nX-Slow: ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 10_000)
        let t0 = Clock.monotonicNanoseconds()
        var sent = 0
        // One byte per 100 ms; between bytes, wait for the server's answer (it is the event we wait for).
        while sent < request.count, !c.readable(within: 100) {
            try c.send([request[sent]])
            sent += 1
        }
        let elapsed = Double(Clock.monotonicNanoseconds() - t0) / 1e9
        XCTAssertLessThan(sent, 100, "cut long before the 10,000 bytes")
        XCTAssertGreaterThanOrEqual(elapsed, 0.55, "not before the deadline")
        XCTAssertLessThan(elapsed, 3, "cut near the 600 ms deadline")
        let answer = try c.readResponse(deadline: .seconds(30))
        XCTAssertEqual(answer.status, 408, answer.head)
        XCTAssertEqual(try d.request("GET", "/api/status").status, 200, "the server still answers")
    }

    func testManyConnectionsHitTheCapAndTheServerStillAnswers() throws {
        let sandbox = try makeSandbox()
        let d = try DashboardProcess.start(sandbox, ["--max-connections", "50"])
        var clients: [RawHTTPClient] = []
        for _ in 0..<500 { clients.append(try RawHTTPClient(port: d.port)) }
        // Wait (poll on all of them) until the refused ones have their answer.
        var refused = 0
        var open = clients
        let deadline = Deadline.seconds(20)
        while refused < 450, !deadline.hasPassed {
            var fds = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), deadline.pollTimeout) > 0 else { break }
            var still: [RawHTTPClient] = []
            for (c, p) in zip(open, fds) {
                if p.revents == 0 { still.append(c); continue }
                let r = try c.readResponse(deadline: .seconds(30))
                XCTAssertEqual(r.status, 503, r.head)
                refused += 1
            }
            open = still
        }
        XCTAssertEqual(refused, 450, "the extra connections are refused with 503")
        XCTAssertEqual(open.count, 50, "the first 50 are held")
        XCTAssertEqual(try d.request("GET", "/api/status").status, 503, "the cap holds while 50 are open")
        clients = []
        open = []
        // Those 50 are closed now; the server answers again.
        let answer = try d.request("GET", "/api/status")
        XCTAssertEqual(answer.status, 200, answer.body)
        XCTAssertFalse(try d.child.hasExited())
    }

    func testTenMegabyteBodyIs413() throws {
        let sandbox = try makeSandbox()
        let d = try DashboardProcess.start(sandbox)
        let c = try RawHTTPClient(port: d.port)
        try c.send(Array("POST /api/control HTTP/1.1\r\nHost: \(d.host)\r\nAuthorization: Bearer \(d.token)\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n".utf8))
        // Send the body until the answer arrives (the server reads and discards what follows).
        let chunk = [UInt8](repeating: 0x20, count: 65536)
        var sent = 0
        while sent < 10 << 20, !c.readable(within: 0) {
            let n = chunk.withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        let answer = try c.readResponse(deadline: .seconds(30))
        XCTAssertEqual(answer.status, 413, answer.head)
        XCTAssertTrue(answer.body.contains("exceeds 65536"), answer.body)
        XCTAssertEqual(try d.request("GET", "/api/status").status, 200, "the server still answers")
    }

    /// `run --dashboard`: the dashboard starts beside a foreground daemon, serves its root, and
    /// stops with it.
    func testRunWithDashboardBesideTheDaemon() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "beside", batchSize: 2, phases: [Fixtures.objectPhase("1", file: "out/1.json")])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: "object_batch $start $end | publish \"$out\"")
        let d = try DashboardProcess.start(sandbox, command: ["run", "--pipeline", path, "--root", sandbox.root, "--dashboard=127.0.0.1:0"])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30)) { $0.event == "run.completed" }
        let status = try d.request("GET", "/api/status")
        XCTAssertEqual(status.status, 200, status.body)
        let doc = try JSON.parse(status.body)
        XCTAssertEqual(doc["kind"]?.string, "status", "the CLI's status --json shape")
        XCTAssertEqual(doc["runs"]?[0]?["run"]?.string, "beside")
        XCTAssertEqual(doc["runs"]?[0]?["completed"], .bool(true), status.body)
        XCTAssertTrue(try sandbox.read("logs/dashboard.log").contains("dashboard: http"), "the child's output is in logs/dashboard.log")
        try d.child.stop()
        XCTAssertThrowsError(try d.request("GET", "/api/status", within: 2), "the dashboard stopped with the daemon")
    }

    /// A `run --dashboard` killed with SIGKILL takes its dashboard with it, and the next one
    /// prints its own URL (a new token), not the one an earlier dashboard left in its log.
    func testTheDashboardOfAKilledRunEndsAndTheNextRunPrintsItsOwnURL() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "killed", batchSize: 2, phases: [Fixtures.objectPhase("1", file: "out/1.json")])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: "object_batch $start $end | publish \"$out\"")
        let first = try DashboardProcess.start(sandbox, command: ["run", "--pipeline", path, "--root", sandbox.root, "--dashboard=127.0.0.1:0"])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30)) { $0.event == "run.completed" }
        let runPID = first.child.pid
        let dashboards = try ProcessControl.processes { $0["AGENT_WATCHER_DASHBOARD_PARENT"] == String(runPID) }.map(\.pid)
        XCTAssertEqual(dashboards.count, 1, "one dashboard beside the run")
        let pidfds = try dashboards.map { try ProcessControl.openPIDFD($0) }
        try first.child.signal(SIGKILL)
        XCTAssertEqual(try first.child.finish(within: 30), .signaled(SIGKILL))
        // A pidfd is readable once its process has ended (a zombie counts: this test process may be
        // a subreaper that reaps it late).
        let deadline = Deadline.seconds(30)
        for (pid, fd) in zip(dashboards, pidfds) {
            let ended = try Poller.wait([fd.rawValue], timeoutMilliseconds: deadline.pollTimeout)
            XCTAssertEqual(ended, [fd.rawValue], "the dashboard \(pid) ended with its run")
        }

        let second = try DashboardProcess.start(sandbox, command: ["run", "--pipeline", path, "--root", sandbox.root, "--dashboard=127.0.0.1:0"])
        XCTAssertNotEqual(second.token, first.token, "the URL printed is the new dashboard's")
        XCTAssertEqual(try second.request("GET", "/api/status").status, 200)
        try second.child.stop()
    }

    /// `/api/stream` resumes after `Last-Event-ID` with every later record, in order, and then
    /// pushes new ones as they are logged.
    func testStreamResumesAfterLastEventIDWithoutAGap() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "sse", batchSize: 2, phases: [Fixtures.objectPhase("1", file: "out/1.json")])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 6, agentBody: "object_batch $start $end | publish \"$out\"")
        let run = try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root, "--daemon"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        defer { _ = try? sandbox.run(["stop", "--root", sandbox.root]) } // cleanup; asserted below
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30)) { $0.event == "run.completed" }
        let logged = try EventLog.read(sandbox.eventLog).map(\.seq)
        let d = try DashboardProcess.start(sandbox)
        let c = try RawHTTPClient(port: d.port)
        try c.send(Array("GET /api/stream HTTP/1.1\r\nHost: \(d.host)\r\nAuthorization: Bearer \(d.token)\r\nLast-Event-ID: 3\r\n\r\n".utf8))
        var text = ""
        func ids(until last: Int, deadline: Deadline) throws -> [Int] {
            while true {
                let found = text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { Int($0.dropFirst(4)) }
                if found.last.map({ $0 >= last }) == true { return found }
                guard !deadline.hasPassed, c.readable(within: deadline.pollTimeout) else { throw E2EError("stream stalled: \(text.suffix(400))") }
                var buf = [UInt8](repeating: 0, count: 65536)
                let n = buf.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, 65536, 0) }
                guard n > 0 else { throw E2EError("stream closed: \(text.suffix(400))") }
                text += String(decoding: buf[..<n], as: UTF8.self)
            }
        }
        let last = try XCTUnwrap(logged.last)
        let backlog = try ids(until: last, deadline: .seconds(30))
        XCTAssertEqual(backlog, Array(4...max(4, backlog.last ?? 0)), "every record after 3, in order")
        XCTAssertGreaterThanOrEqual(backlog.last ?? 0, last)
        // A live one: a control message's answer reaches the stream as it is logged.
        let pause = try sandbox.run(["pause", "sse", "--root", sandbox.root])
        XCTAssertEqual(pause.exitCode, 0, pause.stderr)
        let newest = try XCTUnwrap(try EventLog.read(sandbox.eventLog).last?.seq)
        let live = try ids(until: newest, deadline: .seconds(30))
        XCTAssertEqual(live, Array(4...max(4, live.last ?? 0)), "then each new record, no gap")
        XCTAssertGreaterThanOrEqual(live.last ?? 0, newest)
        XCTAssertTrue(text.contains(#""event":"control.applied""#), "the pause's answer came live")
    }

    /// `/api/log/…`: a 3 MiB agent log from offset 0 arrives whole and exact (the stream reads
    /// on as the client takes what is queued), then a line appended to it arrives live.
    func testAgentLogStreamDeliversABigLogExactlyThenFollowsIt() throws {
        let sandbox = try makeSandbox()
        var content = ""
        for i in 0..<40_000 { content += "line \(i) <b>é</b> \(String(repeating: "x", count: 60))\n" }
        try sandbox.write("logs/agents/r/1-1-1.log", content)
        let d = try DashboardProcess.start(sandbox)
        XCTAssertEqual(try d.request("GET", "/api/log/r/1/1/2").status, 404, "no such attempt's log")
        let c = try RawHTTPClient(port: d.port)
        try c.send(Array("GET /api/log/r/1/1/1?from=0 HTTP/1.1\r\nHost: \(d.host)\r\nAuthorization: Bearer \(d.token)\r\n\r\n".utf8))
        var raw: [UInt8] = []
        /// The text the events carry so far, and the last id.
        func received() -> (String, Int) {
            let text = String(decoding: raw, as: UTF8.self)
            guard let head = text.range(of: "\r\n\r\n") else { return ("", 0) }
            var data = "", last = 0
            for block in text[head.upperBound...].components(separatedBy: "\n\n").dropLast() {
                var lines: [Substring] = []
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("id: ") { last = Int(line.dropFirst(4)) ?? last }
                    if line.hasPrefix("data: ") { lines.append(line.dropFirst(6)) }
                }
                if !lines.isEmpty { data += lines.joined(separator: "\n") }
            }
            return (data, last)
        }
        /// The id of the last whole event received (cheap: looks at the end only).
        func lastID() -> Int {
            let tail = String(decoding: raw.suffix(600_000), as: UTF8.self)
            guard tail.hasSuffix("\n\n"), let r = tail.range(of: "\nid: ", options: .backwards) else { return 0 }
            return Int(tail[r.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        func read(untilID id: Int, deadline: Deadline) throws {
            while lastID() < id {
                guard !deadline.hasPassed, c.readable(within: deadline.pollTimeout) else { throw E2EError("log stream stalled at \(lastID()) of \(id)") }
                var buf = [UInt8](repeating: 0, count: 1 << 16)
                let n = buf.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, 1 << 16, 0) }
                guard n > 0 else { throw E2EError("log stream closed at \(lastID()) of \(id)") }
                raw += buf[..<n]
            }
        }
        let size = content.utf8.count
        XCTAssertGreaterThan(size, 3 << 20)
        try read(untilID: size, deadline: .seconds(30))
        XCTAssertEqual(received().0, content, "every byte, in order, as text")
        let more = "appended é <script>x</script>\n"
        let fd = open(sandbox.path("logs/agents/r/1-1-1.log"), O_WRONLY | O_APPEND)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(more.utf8.count, Array(more.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) })
        close(fd)
        try read(untilID: size + more.utf8.count, deadline: .seconds(10))
        XCTAssertEqual(received().0, content + more, "the appended line, live")
        XCTAssertEqual(try d.request("GET", "/api/status").status, 200, "the server still answers")
    }
}
