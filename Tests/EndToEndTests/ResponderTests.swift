import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem
import XCTest

/// Responders: a message to `agents/<responder>/` wakes the CLI the spec declares; its answer
/// comes back as a `response` reply_to the message. Fake CLIs print the real headless JSON of
/// `claude -p --output-format json`, `gemini -p --output-format json` and `codex exec --json`.
final class ResponderTests: EndToEndTestCase {
    /// `bin/NAME`: a fake CLI; it saves its argv and prompt under `e2e/` and runs `body`.
    func installResponderCLI(_ sandbox: Sandbox, _ name: String, body: String) throws -> String {
        try sandbox.write("bin/\(name)", """
        #!/bin/sh
        n=$AGENT_WATCHER_MESSAGE
        printf '%s\\n' "$@" > "e2e/\(name)-args-$n"
        cat > "e2e/\(name)-prompt-$n"
        \(body)
        """)
        XCTAssertEqual(chmod(sandbox.path("bin/\(name)"), 0o755), 0)
        return sandbox.path("bin/\(name)")
    }

    static let claudeBody = #"""
    q=$(grep -o '"question":"[^"]*"' "e2e/claude-prompt-$n" | head -1 | cut -d'"' -f4)
    printf '{"type":"result","subtype":"success","is_error":false,"duration_ms":900,"duration_api_ms":800,"num_turns":1,"result":"Answer to %s","session_id":"sess-abc","total_cost_usd":0.02,"usage":{"input_tokens":120,"output_tokens":30,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}\n' "$q"
    """#

    func responder(_ name: String, argv: [String], extra: [String: Any] = [:]) -> [String: Any] {
        var r: [String: Any] = ["name": name, "argv": argv, "timeoutSeconds": 20]
        for (k, v) in extra { r[k] = v }
        return r
    }

    func send(_ sandbox: Sandbox, to: String, id: String, from: String = "alice", type: String = "request",
              body: String, replyTo: String? = nil) throws {
        var args = ["send", "--root", sandbox.root, "--to", to, "--type", type, "--from", from, "--id", id, "--body", body]
        if let replyTo { args += ["--reply-to", replyTo] }
        let r = try sandbox.run(args)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
    }

    func waitForTurn(_ sandbox: Sandbox, _ daemon: ChildProcess, message: String, to state: String, within s: Double = 30) throws -> LogRecord {
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(s), daemon: daemon, "turn of \(message) -> \(state)") {
            $0.event == "turn.transition" && $0["message"]?.string == message && $0.to == state
        }
    }

    func testAQuestionIsAnsweredAndTheSessionResumedOnTheSecondTurn() throws {
        let sandbox = try makeSandbox()
        let cli = try installResponderCLI(sandbox, "claude", body: Self.claudeBody)
        try sandbox.write("reviewer.md", "You review LEGO decompositions.\n")
        let spec = try installQuietPipeline(sandbox, overrides: ["responders": [responder(
            "reviewer", argv: [cli, "-p", "--output-format", "json"],
            extra: ["output": "claude-json", "instructions": "reviewer.md", "session": ["resumeArgs": ["--resume", "{session_id}"]]])]])
        try sandbox.write("e2e/.keep", "")
        let daemon = try startDaemon(sandbox, spec: spec)
        try send(sandbox, to: "reviewer", id: "q1", body: #"{"question":"which LEGO covers frecuentamente"}"#)
        let replied = try waitForTurn(sandbox, daemon, message: "q1", to: "replied")
        XCTAssertEqual(replied["reply_id"]?.string, "q1.r1")
        XCTAssertEqual(replied["session_id"]?.string, "sess-abc")
        XCTAssertEqual(replied["thread"]?.string, "q1")
        XCTAssertEqual(replied["responder"]?.string, "reviewer")
        XCTAssertEqual(replied["turn"]?.int, 1)
        XCTAssertEqual(replied["output_tokens"]?.int, 30)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "q1.r1 delivered") {
            $0.event == "message.delivered" && $0["id"]?.string == "q1.r1"
        }
        let ack = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "q1 answered") {
            $0.event == "message.acknowledged" && $0["id"]?.string == "q1"
        }
        XCTAssertEqual(ack.reason, "answered")
        let reply = try sandbox.read("mailbox/agents/alice/new/q1.r1.json")
        XCTAssertTrue(reply.contains(#""type":"response""#) && reply.contains(#""reply_to":"q1""#), reply)
        XCTAssertTrue(reply.contains("Answer to which LEGO covers frecuentamente"), reply)
        XCTAssertEqual(sandbox.list("mailbox/agents/reviewer/cur"), ["q1.json"])
        let prompt = try sandbox.read("e2e/claude-prompt-q1")
        XCTAssertTrue(prompt.hasPrefix("You review LEGO decompositions."), prompt)
        XCTAssertTrue(prompt.contains("From: alice"), prompt)
        XCTAssertEqual(try sandbox.read("e2e/claude-args-q1"), "-p\n--output-format\njson\n")

        // Turn 2 of the thread resumes the captured session.
        try send(sandbox, to: "reviewer", id: "q2", body: #"{"question":"and S0003"}"#, replyTo: "q1.r1")
        let second = try waitForTurn(sandbox, daemon, message: "q2", to: "replied")
        XCTAssertEqual(second["thread"]?.string, "q1")
        XCTAssertEqual(second["turn"]?.int, 2)
        XCTAssertEqual(try sandbox.read("e2e/claude-args-q2"), "-p\n--output-format\njson\n--resume\nsess-abc\n")
        let prompt2 = try sandbox.read("e2e/claude-prompt-q2")
        XCTAssertTrue(prompt2.contains("The thread so far") && prompt2.contains("Answer to which LEGO"), prompt2)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        try assertWellFormedLog(sandbox.eventLog)
    }

    /// A one-phase quiet run with these responders; returns the daemon.
    func startWithResponders(_ sandbox: Sandbox, _ responders: [[String: Any]], environment: [String: String] = [:]) throws -> ChildProcess {
        let spec = try installQuietPipeline(sandbox, overrides: ["responders": responders])
        try sandbox.write("e2e/.keep", "")
        return try startDaemon(sandbox, spec: spec, environment: environment)
    }

    func testGeminiAndCodexAnswersAndSessionIdsAreRead() throws {
        let sandbox = try makeSandbox()
        let gemini = try installResponderCLI(sandbox, "gemini", body: #"""
        printf '{"session_id":"gem-7","response":"gemini says yes","stats":{"models":{"gemini-2.5-pro":{"api":{"totalRequests":1,"totalErrors":0,"totalLatencyMs":700},"tokens":{"prompt":200,"candidates":20,"total":220,"cached":50,"thoughts":0,"tool":0}}},"tools":{"totalCalls":0},"files":{"totalLinesAdded":0,"totalLinesRemoved":0}}}\n'
        """#)
        let codex = try installResponderCLI(sandbox, "codex", body: #"""
        echo '{"type":"thread.started","thread_id":"th-42"}'
        echo '{"type":"turn.started"}'
        echo '{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"thinking"}}'
        echo '{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"codex says no"}}'
        echo '{"type":"turn.completed","usage":{"input_tokens":300,"cached_input_tokens":100,"output_tokens":40}}'
        """#)
        let daemon = try startWithResponders(sandbox, [
            responder("gem", argv: [gemini, "-p", "Answer the message on standard input.", "--output-format", "json"],
                      extra: ["output": "gemini-json", "session": ["resumeArgs": ["--resume", "{session_id}"]]]),
            responder("cdx", argv: [codex, "exec", "--json", "-"],
                      extra: ["output": "codex-jsonl", "on": ["query"], "session": ["resumeArgs": ["resume", "{session_id}"]]]),
        ])
        try send(sandbox, to: "gem", id: "g1", body: #"{"q":"ok?"}"#)
        try send(sandbox, to: "cdx", id: "c1", type: "query", body: #"{"q":"ok?"}"#)
        let g = try waitForTurn(sandbox, daemon, message: "g1", to: "replied")
        let c = try waitForTurn(sandbox, daemon, message: "c1", to: "replied")
        XCTAssertEqual(g["session_id"]?.string, "gem-7")
        XCTAssertEqual(c["session_id"]?.string, "th-42")
        XCTAssertEqual(c["input_tokens"]?.int, 200)
        try waitForFile(sandbox.path("mailbox/agents/alice/new/c1.r1.json"), deadline: .seconds(30))
        XCTAssertTrue(try sandbox.read("mailbox/agents/alice/new/g1.r1.json").contains(#""body":"gemini says yes""#))
        XCTAssertTrue(try sandbox.read("mailbox/agents/alice/new/c1.r1.json").contains(#""body":"codex says no""#))
        try send(sandbox, to: "cdx", id: "c2", type: "query", body: #"{"q":"sure?"}"#, replyTo: "c1.r1")
        _ = try waitForTurn(sandbox, daemon, message: "c2", to: "replied")
        XCTAssertEqual(try sandbox.read("e2e/codex-args-c2"), "exec\n--json\n-\nresume\nth-42\n")
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }

    func testACrashingTimingOutOrSilentResponderEndsFailedWithAnErrorReply() throws {
        let sandbox = try makeSandbox()
        let crash = try installResponderCLI(sandbox, "crash", body: "echo 'segfault, sorry' >&2; exit 7")
        let silent = try installResponderCLI(sandbox, "silent", body: "exit 0")
        // It leaves a grandchild in its group, then hangs: both must be gone after the timeout.
        let hang = try installResponderCLI(sandbox, "hang", body: #"""
        sleep 300 & echo $! > "e2e/grandchild-$n-$$"
        sleep 300
        """#)
        let daemon = try startWithResponders(sandbox, [
            responder("crasher", argv: [crash], extra: ["maxAttempts": 2]),
            responder("mute", argv: [silent], extra: ["maxAttempts": 1]),
            responder("sleeper", argv: [hang], extra: ["maxAttempts": 1, "timeoutSeconds": 1]),
        ])
        try send(sandbox, to: "crasher", id: "x1", body: "1")
        try send(sandbox, to: "mute", id: "s1", body: "1")
        try send(sandbox, to: "sleeper", id: "h1", body: "1")
        let crashed = try waitForTurn(sandbox, daemon, message: "x1", to: "failed")
        XCTAssertEqual(crashed.reason, "crashed")
        XCTAssertEqual(crashed.attempt, 2)
        XCTAssertTrue(crashed["error"]?.string?.contains("segfault, sorry") == true, "\(crashed)")
        XCTAssertEqual(try waitForTurn(sandbox, daemon, message: "s1", to: "failed").reason, "no_answer")
        XCTAssertEqual(try waitForTurn(sandbox, daemon, message: "h1", to: "failed").reason, "timeout")
        for (id, reason) in [("x1", "crashed"), ("s1", "no_answer"), ("h1", "timeout")] {
            let path = sandbox.path("mailbox/agents/alice/new/\(id).r1.json")
            try waitForFile(path, deadline: .seconds(30))
            let text = try sandbox.read(path)
            XCTAssertTrue(text.contains(#""type":"error""#) && text.contains(#""error":"\#(reason)""#) && text.contains(#""reply_to":"\#(id)""#), text)
            let ack = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "\(id) acknowledged") {
                $0.event == "message.acknowledged" && $0["id"]?.string == id
            }
            XCTAssertEqual(ack.reason, "failed")
        }
        let marker = try XCTUnwrap(sandbox.list("e2e").first { $0.hasPrefix("grandchild-h1-") })
        let grandchild = try XCTUnwrap(pid_t(try sandbox.read("e2e/" + marker).trimmingCharacters(in: .whitespacesAndNewlines)))
        let gone = try waitForPIDsToExit([grandchild], within: 30)
        XCTAssertEqual(gone, [], "the timed-out responder's grandchild still runs")
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }

    func testTwoRespondersTalkingToEachOtherStopAtTheTurnLimit() throws {
        let sandbox = try makeSandbox()
        let ping = try installResponderCLI(sandbox, "ping", body: "echo ping")
        let pong = try installResponderCLI(sandbox, "pong", body: "echo pong")
        let daemon = try startWithResponders(sandbox, [
            responder("ping", argv: [ping], extra: ["on": ["request", "response"], "maxTurnsPerThread": 4]),
            responder("pong", argv: [pong], extra: ["on": ["request", "response"], "maxTurnsPerThread": 4]),
        ])
        try send(sandbox, to: "ping", id: "t1", from: "pong", body: #"{"start":true}"#)
        let stuck = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "thread.stuck") {
            $0.event == "thread.stuck"
        }
        XCTAssertEqual(stuck["thread"]?.string, "t1")
        XCTAssertEqual(stuck["turns"]?.int, 4)
        let stuckMessage = try XCTUnwrap(stuck["message"]?.string)
        // The notice goes to the sender (pong) and wakes no turn (feedback is not in its `on`, and the thread is stuck).
        let notice = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "the notice delivered") {
            $0.event == "message.delivered" && $0["id"]?.string == stuckMessage + ".stuck"
        }
        XCTAssertEqual(notice.to, "pong")
        let records = try EventLog.read(sandbox.eventLog)
        XCTAssertEqual(records.filter { $0.event == "turn.transition" && $0.to == "queued" }.count, 4)
        let replied = records.filter { $0.event == "turn.transition" && $0.to == "replied" }
        XCTAssertEqual(replied.map { $0["turn"]?.int ?? 0 }, [1, 2, 3, 4])
        XCTAssertEqual(replied.map { $0["responder"]?.string ?? "" }, ["ping", "pong", "ping", "pong"])
        let report = try sandbox.read("logs/stuck/t1.md")
        XCTAssertTrue(report.contains("is waiting for") && report.contains("## Transcript"), report)
        XCTAssertTrue(records.contains { $0.event == "turn.transition" && $0.to == "stuck" && $0["message"]?.string == stuckMessage })

        // messages: the stuck thread first, with its turns; show --thread; status lists the responders.
        try send(sandbox, to: "carol", id: "other", body: "1")
        let shown = try sandbox.run(["messages", "--root", sandbox.root])
        XCTAssertEqual(shown.exitCode, 0, shown.stderr)
        XCTAssertTrue(shown.stdout.hasPrefix("STUCK thread t1 "), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("    t1  turn 1  ping  attempt 1  replied"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("turn 5  ping  attempt 0  stuck (turn_limit)"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("\nthread other "), shown.stdout)
        let json = try JSON.parse(try sandbox.run(["messages", "--root", sandbox.root, "--json"]).stdout)
        let first = try XCTUnwrap(json["threads"]?.array?.first)
        XCTAssertEqual(first["root"]?.string, "t1")
        XCTAssertEqual(first["stuck"], .bool(true))
        XCTAssertEqual(first["turns"]?.array?.map { $0["state"]?.string ?? "" }, ["replied", "replied", "replied", "replied", "stuck"])
        XCTAssertEqual(first["turns"]?.array?.first?["responder"]?.string, "ping")
        let thread = try sandbox.run(["show", "--root", sandbox.root, "--thread", "t1.r1"])
        XCTAssertEqual(thread.exitCode, 0, thread.stderr)
        XCTAssertTrue(thread.stdout.hasPrefix("STUCK thread t1 ") && thread.stdout.contains("stuck report: " + sandbox.path("logs/stuck/t1.md")),
                      thread.stdout)
        XCTAssertFalse(thread.stdout.contains("thread other"), thread.stdout)
        // Each attempt's prompt and log, the log by its real name (one dot before `log`).
        let logPath = sandbox.path("logs/responders/ping/t1-1.log")
        XCTAssertTrue(thread.stdout.contains("  t1 attempt 1: " + sandbox.path("logs/responders/ping/t1-1.prompt.md") + " (log: " + logPath + ")"),
                      thread.stdout)
        XCTAssertTrue(FileSystem.exists(logPath), logPath)
        XCTAssertFalse(thread.stdout.contains("..log"), thread.stdout)
        let status = try sandbox.run(["status", "--root", sandbox.root])
        XCTAssertTrue(status.stdout.contains("responders:\n  ping: idle, 2 turns (2 replied, 0 failed)\n  pong: idle, 2 turns (2 replied, 0 failed)"),
                      status.stdout)

        // The dashboard shows the same: /api/messages is `messages --json`, the page puts the stuck
        // thread first with its turns, and the overview lists it under "needs you".
        let d = try DashboardProcess.start(sandbox)
        let api = try d.request("GET", "/api/messages")
        XCTAssertEqual(api.status, 200, api.body)
        XCTAssertEqual(try JSON.parse(api.body)["threads"], json["threads"], "the API answers with the CLI's shape")
        let page = try d.request("GET", "/messages").body
        let firstThread = try XCTUnwrap(page.range(of: "<article").map { String(page[$0.lowerBound...].prefix(4000)) })
        XCTAssertTrue(firstThread.contains("data-root=\"t1\"") && firstThread.contains("STUCK (turn limit)"), firstThread)
        XCTAssertTrue(firstThread.contains("turn 1  ping  attempt 1  replied"), firstThread)
        XCTAssertTrue(firstThread.contains("stuck (turn_limit)"), firstThread)
        let overview = try d.request("GET", "/").body
        XCTAssertTrue(overview.contains("thread <a href=\"/messages?q=t1\"><code>t1</code></a> stuck"), overview)
        try d.child.stop()
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }

    /// The daemon dies at each step of a turn and is started again: one reply per message.
    func testKillingTheDaemonAtEachStepOfATurnPostsExactlyOneReply() throws {
        for step in ["turn_spawn_intent", "turn_spawned", "turn_answer_read", "turn_reply_logged", "turn_reply_posted"] {
            let sandbox = try makeSandbox("crash-\(step)")
            let cli = try installResponderCLI(sandbox, "claude", body: Self.claudeBody)
            let responders = [responder("reviewer", argv: [cli], extra: ["output": "claude-json"])]
            let first = try startWithResponders(sandbox, responders, environment: ["AGENT_WATCHER_FAULT": step])
            try send(sandbox, to: "reviewer", id: "q1", body: #"{"question":"once?"}"#)
            XCTAssertEqual(try first.wait(until: .seconds(20)), .exited(99), "\(step): \(first.stderr)")
            let second = try startWithResponders(sandbox, responders)
            try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: second, "\(step): q1 answered") {
                $0.event == "message.acknowledged" && $0["id"]?.string == "q1"
            }
            try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: second, "\(step): reply delivered") {
                $0.event == "message.delivered" && $0["id"]?.string == "q1.r1"
            }
            XCTAssertEqual(try second.stop(), .exited(0), second.stderr)
            let records = try EventLog.read(sandbox.eventLog)
            XCTAssertEqual(records.filter { $0.event == "message.received" && $0["reply_to"]?.string == "q1" }.count, 1, "\(step)")
            XCTAssertEqual(records.filter { $0.event == "turn.transition" && $0.to == "replied" }.count, 1, "\(step)")
            let files = sandbox.list("mailbox/agents/alice/new") + sandbox.list("mailbox/agents/alice/cur")
            XCTAssertEqual(files, ["q1.r1.json"], "\(step)")
            XCTAssertEqual(sandbox.list("mailbox/agents/alice/tmp"), [], "\(step)")
            try assertWellFormedLog(sandbox.eventLog)
        }
    }

    /// Message fields never become argv or paths: the spec's argv gets only plain names the
    /// broker checked; everything else reaches the agent inside the prompt.
    func testAMessageCannotSmuggleArgvOrAPath() throws {
        let sandbox = try makeSandbox()
        let cli = try installResponderCLI(sandbox, "echoer", body: "echo fine")
        let daemon = try startWithResponders(sandbox, [
            responder("rev", argv: [cli, "--from", "{from}", "--thread", "{thread}", "--msg", "{message}", "--turn", "{turn}"]),
        ])
        let hostile = #"{"argv":["/bin/rm","-rf","/"],"reply_file":"/tmp/pwned","session_id":"; touch /tmp/pwned","prompt_file":"../../etc/passwd"}"#
        try sandbox.write("mailbox/agents/rev/new/evil.json", #"""
        {"id":"evil-1","from":"mallory","to":"rev","type":"request","argv":["/bin/sh","-c","touch e2e/pwned"],"reply_file":"e2e/pwned","body":\#(hostile)}
        """#)
        // A sender or id that is not a plain name is refused before any turn.
        try sandbox.write("mailbox/agents/rev/new/evil2.json",
                          #"{"id":"evil-2","from":"-rf /","to":"rev","type":"request","body":"x"}"#)
        try sandbox.write("mailbox/agents/rev/new/evil3.json",
                          #"{"id":"../../e2e/pwned","from":"mallory","to":"rev","type":"request","body":"x"}"#)
        _ = try waitForTurn(sandbox, daemon, message: "evil-1", to: "replied")
        XCTAssertEqual(try sandbox.read("e2e/echoer-args-evil-1"), "--from\nmallory\n--thread\nevil-1\n--msg\nevil-1\n--turn\n1\n")
        let prompt = try sandbox.read("e2e/echoer-prompt-evil-1")
        XCTAssertTrue(prompt.contains(#""argv":["/bin/rm","-rf","/"]"#), "the body is in the prompt, as data:\n\(prompt)")
        XCTAssertFalse(sandbox.exists("e2e/pwned"))
        XCTAssertFalse(FileSystem.exists("/tmp/pwned"))
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "evil3 rejected") {
            $0.event == "file.rejected" && ($0.reason ?? "").contains("evil3.json")
        }
        let records = try EventLog.read(sandbox.eventLog)
        XCTAssertTrue(records.contains { $0.event == "file.rejected" && ($0.reason ?? "").contains("evil2.json") })
        XCTAssertEqual(records.filter { $0.event == "turn.transition" && $0.to == "queued" }.count, 1)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }

    func testSendWaitPrintsTheReplyOrExits2OnTimeoutAnd3OnAnErrorReply() throws {
        let sandbox = try makeSandbox()
        let cli = try installResponderCLI(sandbox, "claude", body: Self.claudeBody)
        let crash = try installResponderCLI(sandbox, "crash", body: "exit 1")
        let daemon = try startWithResponders(sandbox, [
            responder("reviewer", argv: [cli], extra: ["output": "claude-json"]),
            responder("broken", argv: [crash], extra: ["maxAttempts": 1]),
        ])
        let asked = try sandbox.run(["send", "--root", sandbox.root, "--to", "reviewer", "--type", "query", "--from", "bob",
                                     "--id", "w1", "--body", #"{"question":"ready"}"#, "--wait", "--timeout", "30"])
        XCTAssertEqual(asked.exitCode, 0, asked.stderr)
        XCTAssertEqual(asked.stdout, "Answer to ready\n")
        XCTAssertEqual(sandbox.list("mailbox/agents/bob/cur"), ["w1.r1.json"])
        XCTAssertEqual(sandbox.list("mailbox/agents/bob/new"), [])
        let ack = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "the reply acknowledged") {
            $0.event == "message.acknowledged" && $0["id"]?.string == "w1.r1"
        }
        XCTAssertEqual(ack.reason, nil)

        let failed = try sandbox.run(["send", "--root", sandbox.root, "--to", "broken", "--type", "request", "--from", "bob",
                                      "--id", "w2", "--body", "1", "--wait"])
        XCTAssertEqual(failed.exitCode, 3, failed.stderr)
        XCTAssertTrue(failed.stdout.contains(#""error":"crashed""#), failed.stdout)

        // Nobody answers a context message: the wait ends at its timeout.
        let nobody = try sandbox.run(["send", "--root", sandbox.root, "--to", "carol", "--type", "request", "--from", "bob",
                                      "--id", "w3", "--body", "1", "--wait", "--timeout", "0.5"])
        XCTAssertEqual(nobody.exitCode, 2, nobody.stderr)
        XCTAssertTrue(nobody.stderr.contains("no reply to w3 within 0.5 s"), nobody.stderr)
        let usage = try sandbox.run(["send", "--root", sandbox.root, "--to", "carol", "--type", "request", "--timeout", "3"])
        XCTAssertEqual(usage.exitCode, 64, usage.stderr)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }

    func testCancelAThreadAndResumeAPausedResponder() throws {
        let sandbox = try makeSandbox()
        let hang = try installResponderCLI(sandbox, "hang", body: "sleep 300")
        let crash = try installResponderCLI(sandbox, "crash", body: "exit 1")
        let daemon = try startWithResponders(sandbox, [
            responder("sleeper", argv: [hang], extra: ["timeoutSeconds": 120]),
            responder("crasher", argv: [crash], extra: ["maxAttempts": 1, "maxConsecutiveErrors": 1]),
        ])
        try send(sandbox, to: "sleeper", id: "h1", body: "1")
        _ = try waitForTurn(sandbox, daemon, message: "h1", to: "running")
        let cancel = try sandbox.run(["cancel", "--root", sandbox.root, "--thread", "h1"])
        XCTAssertEqual(cancel.exitCode, 0, cancel.stderr)
        XCTAssertEqual(cancel.stdout, "cancel --thread h1: applied\n")
        XCTAssertEqual(try waitForTurn(sandbox, daemon, message: "h1", to: "cancelled").reason, "cancelled")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "h1.r1 delivered") {
            $0.event == "message.delivered" && $0["id"]?.string == "h1.r1"
        }
        XCTAssertTrue(try sandbox.read("mailbox/agents/alice/new/h1.r1.json").contains(#""error":"cancelled""#))
        let unknown = try sandbox.run(["cancel", "--root", sandbox.root, "--thread", "nope"])
        XCTAssertEqual(unknown.exitCode, 1)
        XCTAssertTrue(unknown.stderr.contains(#"rejected: no thread "nope""#), unknown.stderr)

        try send(sandbox, to: "crasher", id: "c1", body: "1")
        let paused = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "responder.paused") {
            $0.event == "responder.paused"
        }
        XCTAssertEqual(paused["responder"]?.string, "crasher")
        try send(sandbox, to: "crasher", id: "c2", body: "2")
        _ = try waitForTurn(sandbox, daemon, message: "c2", to: "queued")
        let status = try sandbox.run(["status", "--root", sandbox.root])
        XCTAssertTrue(status.stdout.contains("responders:\n  crasher: paused"), status.stdout)
        XCTAssertTrue(status.stdout.contains("  sleeper: idle, 1 turn (0 replied, 0 failed)"), status.stdout)
        XCTAssertTrue(status.stdout.contains("  crasher: paused, 2 turns (0 replied, 1 failed), 1 failed in a row; agent-watcher resume --responder crasher"),
                      status.stdout)
        let resume = try sandbox.run(["resume", "--root", sandbox.root, "--responder", "crasher"])
        XCTAssertEqual(resume.exitCode, 0, resume.stderr)
        XCTAssertEqual(try waitForTurn(sandbox, daemon, message: "c2", to: "failed").reason, "crashed")
        let both = try sandbox.run(["resume", "--root", sandbox.root, "quiet", "--responder", "crasher"])
        XCTAssertEqual(both.exitCode, 64, both.stderr)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }
}
