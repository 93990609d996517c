import Testing
@testable import WatcherCore

@Suite struct TurnPromptTests {
    let turn = Turn(message: "m3", thread: "m1", responder: "rev", sender: "alice", turn: 3, run: "r", phase: "3", batch: 2)

    func message(_ id: String, _ text: String, replyTo: String? = nil) -> AgentMessage {
        AgentMessage(id: id, from: "alice", to: "rev", type: .request, run: "r", phase: "3", batch: 2, body: .string(text), replyTo: replyTo)
    }

    @Test func theThreadIsBoundedNewestKeptOldestFirst() {
        let earlier = [message("m1", String(repeating: "a", count: 200)), message("m1.r1", "short", replyTo: "m1"),
                       message("m2", "newest", replyTo: "m1.r1")]
        let p = TurnPrompt(instructions: "Review.", earlier: earlier, message: message("m3", "now?", replyTo: "m2"), turn: turn,
                           replyFile: nil, maxThreadBytes: 150)
        #expect(p.shownThread.omitted == 1)
        #expect(p.shownThread.entries.map { $0.hasPrefix("- m1.r1") || $0.hasPrefix("- m2") } == [true, true])
        let text = p.render()
        #expect(text.hasPrefix("Review.\n\n# Message m3 (turn 3 of thread m1)\n\nFrom: alice\nType: request\nAbout: run r, phase 3, batch 2\n"))
        #expect(text.contains("(1 earlier message left out: over 150 bytes)"))
        #expect(text.contains("Print your answer on standard output"))
        let file = TurnPrompt(instructions: "", earlier: [], message: message("m3", "x"), turn: turn, replyFile: "/l/m3-1.reply",
                              maxThreadBytes: 0)
        #expect(file.render().contains("Write your answer to /l/m3-1.reply") && !file.render().contains("The thread so far"))
    }
}

@Suite struct ResponderAnswerTests {
    let text = ResponderSpec(name: "r", argv: ["x"])

    @Test func answersAndFailuresAreRead() {
        #expect(ResponderAnswer.read(text, status: "exit 0", exitCode: 0, stdout: Array("  yes \n".utf8), replyFile: nil, logTail: "")
            == .answer(text: "yes", sessionID: nil, usage: []))
        guard case .failure("no_answer", _, false, _) = ResponderAnswer.read(text, status: "exit 0", exitCode: 0, stdout: [], replyFile: nil, logTail: "") else {
            Issue.record("an empty answer is no answer"); return
        }
        guard case .failure("crashed", let m, true, _) = ResponderAnswer.read(text, status: "exit 1", exitCode: 1, stdout: [], replyFile: nil,
                                                                              logTail: "HTTP 429 Too Many Requests\n") else {
            Issue.record("a 429 is transient"); return
        }
        #expect(m == "exit 1: HTTP 429 Too Many Requests")
        var file = text
        file.reply = .file
        guard case .failure("no_answer", _, _, _) = ResponderAnswer.read(file, status: "exit 0", exitCode: 0, stdout: Array("chatter".utf8),
                                                                         replyFile: nil, logTail: "") else { Issue.record("no reply file"); return }
        #expect(ResponderAnswer.read(file, status: "exit 0", exitCode: 0, stdout: [], replyFile: Array("from the file".utf8), logTail: "")
            == .answer(text: "from the file", sessionID: nil, usage: []))
        var claude = text
        claude.output = .claudeJSON
        let ok = #"{"type":"result","subtype":"success","is_error":false,"result":"fine","session_id":"s-1","usage":{"input_tokens":3,"output_tokens":4}}"#
        guard case .answer("fine", "s-1", let usage) = ResponderAnswer.read(claude, status: "exit 0", exitCode: 0, stdout: Array(ok.utf8),
                                                                            replyFile: nil, logTail: "") else { Issue.record("claude"); return }
        #expect(usage.contains(.init("output_tokens", .int(4))) && !usage.contains { $0.key == "session_id" || $0.key == "message" })
        let bad = #"{"type":"result","subtype":"error_max_turns","is_error":true,"session_id":"s-2"}"#
        guard case .failure("agent_error", _, false, _) = ResponderAnswer.read(claude, status: "exit 1", exitCode: 1, stdout: Array(bad.utf8),
                                                                               replyFile: nil, logTail: "") else { Issue.record("claude error"); return }
        guard case .failure("unreadable_output", _, _, _) = ResponderAnswer.read(claude, status: "exit 0", exitCode: 0, stdout: Array("hi".utf8),
                                                                                 replyFile: nil, logTail: "") else { Issue.record("not JSON"); return }
    }
}
