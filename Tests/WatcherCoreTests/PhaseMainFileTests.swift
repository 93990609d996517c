import Testing
@testable import WatcherCore

@Suite struct PhaseMainFileTests {
    @Test func twoPhasesCannotShareAMainFile() {
        let text = #"""
            {"run": "r", "items": {"file": "i.json"}, "agent": {"argv": ["a"]},
             "phases": [{"id": "1", "output": {"file": "o.json", "strategy": "object", "key": "k"}},
                        {"id": "2", "output": {"file": "o.json", "strategy": "object", "key": "k"}}]}
            """#
        guard case .failure(let e) = PipelineSpec.decode(Array(text.utf8)) else { Issue.record("accepted"); return }
        #expect(e.problems.map(\.summary).contains(#"phases[1].output.file: "o.json" is phases[0]'s main file too; each phase needs a main file of its own"#),
                "\(e.problems.map(\.summary))")
    }
}

@Suite struct AgentPlaceholderTests {
    @Test(arguments: [
        ("{nosuch}", "unknown placeholder {nosuch}"),
        ("--out={output", "placeholder {output is not closed: add }"),
    ])
    func badPlaceholdersAreReported(arg: String, expected: String) {
        let text = #"{"run": "r", "items": {"file": "i.json"}, "agent": {"argv": ["a", "\#(arg)"]}, "#
            + #""phases": [{"id": "1", "output": {"file": "o.json", "strategy": "object"}}]}"#
        guard case .failure(let e) = PipelineSpec.decode(Array(text.utf8)) else { Issue.record("accepted \(arg)"); return }
        #expect(e.problems.map(\.summary).contains { $0.hasPrefix("agent.argv[1]: " + expected) }, "\(e.problems.map(\.summary))")
    }

    @Test(arguments: ["{output}", "--prompt={prompt_file}", #"--config={"a": 1}"#, "{}", "a{B}c", "{attempt}-{budget_usd}"])
    func knownPlaceholdersAndOtherBracesAreFine(arg: String) {
        #expect(PipelineSpec.placeholderProblem(arg) == nil, "\(arg)")
    }
}
