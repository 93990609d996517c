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
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: daemon, "q1.r1 delivered") {
            $0.event == "message.delivered" && $0["id"]?.string == "q1.r1"
        }
        let ack = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: daemon, "q1 answered") {
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
}
