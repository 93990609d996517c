import Testing
@testable import WatcherCore

private let head = #"{"run": "r", "items": {"file": "i.json"}, "agent": {"argv": ["a"]}, "#
    + #""phases": [{"id": "1", "output": {"file": "o.json", "strategy": "object"}}], "responders": "#

private func decode(_ responders: String) -> Result<PipelineSpec, SpecProblems> {
    PipelineSpec.decode(Array((head + responders + "}").utf8))
}

private func problems(_ responders: String) -> [String] {
    if case .failure(let e) = decode(responders) { return e.problems.map(\.summary) }
    return []
}

@Suite struct ResponderSpecTests {
    @Test func aResponderHasItsDefaults() throws {
        let spec = try decode(#"[{"name": "reviewer", "argv": ["claude", "-p"]}]"#).get()
        let r = try #require(spec.responders.first)
        #expect(r == ResponderSpec(name: "reviewer", argv: ["claude", "-p"]))
        #expect(r.on == [.request, .query, .handoff, .feedback, .discussion])
        #expect(r.maxTurnsPerThread == 10 && r.maxConsecutiveErrors == 3 && r.maxThreadBytes == 65536)
        #expect(r.reply == .stdout && r.output == .text && r.prompt == .stdin && r.concurrency == 1)
    }

    @Test func everyFieldIsRead() throws {
        let spec = try decode(#"""
            [{"name": "gem", "argv": ["gemini", "-p", "x", "--output-format", "json", "{reply_file}"], "prompt": "file",
              "instructions": "reviewer.md", "on": ["query", "discussion"], "timeoutSeconds": 30, "concurrency": 2,
              "maxAttempts": 2, "maxTurnsPerThread": 4, "maxConsecutiveErrors": 5, "maxThreadBytes": 100,
              "reply": "file", "output": "gemini-json", "session": {"resumeArgs": ["--resume", "{session_id}"]},
              "env": {"A": "1"}}]
            """#).get()
        #expect(spec.responders == [ResponderSpec(
            name: "gem", argv: ["gemini", "-p", "x", "--output-format", "json", "{reply_file}"], prompt: .file,
            instructions: "reviewer.md", on: [.query, .discussion], timeoutSeconds: 30, concurrency: 2, maxAttempts: 2,
            maxTurnsPerThread: 4, maxConsecutiveErrors: 5, maxThreadBytes: 100, reply: .file, output: .geminiJSON,
            resumeArgs: ["--resume", "{session_id}"], env: ["A": "1"])])
    }

    @Test(arguments: [
        (#"[{"argv": ["a"]}]"#, "responders[0].name: missing; this key is required"),
        (#"[{"name": "x"}]"#, "responders[0].argv: missing; this key is required"),
        (#"[{"name": "x", "argv": ["a"], "turns": 3}]"#, "responders[0].turns: unknown key; expected one of name, argv, prompt, instructions, on, timeoutSeconds, concurrency, maxAttempts, maxTurnsPerThread, maxConsecutiveErrors, maxThreadBytes, reply, output, session, env"),
        (#"[{"name": "x", "argv": ["a"], "maxTurnPerThread": 3}]"#, "responders[0].maxTurnPerThread: unknown key; did you mean maxTurnsPerThread?"),
        (#"[{"name": "x", "argv": ["a"], "on": ["shout"]}]"#, #"responders[0].on[0]: expected a message type, one of request, response, handoff, feedback, query, context, discussion, batch.done, error, got "shout""#),
        (#"[{"name": "x", "argv": ["a"], "reply": "mail"}]"#, #"responders[0].reply: expected one of stdout, file, got "mail""#),
        (#"[{"name": "x", "argv": ["a"], "output": "json"}]"#, #"responders[0].output: expected one of text, claude-json, gemini-json, codex-jsonl, got "json""#),
        (#"[{"name": "x", "argv": ["a"], "session": {"resume": []}}]"#, "responders[0].session.resume: unknown key; did you mean resumeArgs?"),
        (#"[{"name": "a/b", "argv": ["a"]}]"#, #"responders[0].name: expected a plain name, got "a/b": it contains '/'; use ASCII letters, digits, '-', '_' and '.', starting with a letter or digit, at most 64 bytes"#),
        (#"[{"name": "watcher", "argv": ["a"]}]"#, #"responders[0].name: "watcher" is a name of the mailbox itself (watcher, tmp, new, cur, rejected)"#),
        (#"[{"name": "x", "argv": ["a"]}, {"name": "x", "argv": ["b"]}]"#, #"responders[1].name: "x" is used by an earlier responder"#),
        (#"[{"name": "x", "argv": []}]"#, "responders[0].argv: expected a non-empty array (the program and its arguments)"),
        (#"[{"name": "x", "argv": ["{from}"]}]"#, "responders[0].argv[0]: expected a program, not a placeholder: only the spec says what runs"),
        (#"[{"name": "x", "argv": ["a", "{output}"]}]"#, "responders[0].argv[1]: unknown placeholder {output}; expected one of {prompt_file}, {reply_file}, {thread}, {message}, {from}, {session_id}, {turn}"),
        (#"[{"name": "x", "argv": ["a"], "reply": "file"}]"#, #"responders[0].reply: "file" needs {reply_file} in argv (where the agent writes its answer)"#),
        (#"[{"name": "x", "argv": ["a"], "on": ["error"]}]"#, "responders[0].on: error replies never wake a responder (so two failing responders cannot loop)"),
        (#"[{"name": "x", "argv": ["a"], "maxTurnsPerThread": 0}]"#, "responders[0].maxTurnsPerThread: expected a whole number ≥ 1, got 0"),
        (#"[{"name": "x", "argv": ["a"], "timeoutSeconds": 0}]"#, "responders[0].timeoutSeconds: expected a number > 0, got 0.0"),
        (#"{"name": "x"}"#, "responders: expected an array, got an object"),
    ])
    func problemsNameTheKey(responders: String, expected: String) {
        #expect(problems(responders).map { $0.replacingOccurrences(of: #" \(line \d+, column \d+\)"#, with: "", options: .regularExpression) } == [expected])
    }
}
