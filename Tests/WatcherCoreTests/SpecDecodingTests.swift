import Testing
@testable import WatcherCore

private let agent = #""agent": {"argv": ["claude", "-p"]}"#
private let phase = #"{"id": "1", "output": {"file": "o.json", "strategy": "object", "key": "t"}}"#

/// The spec `members` (top-level members, after `run` and `items`) decodes to, or its problems.
private func decode(_ members: String, phases: String = phase) -> Result<PipelineSpec, SpecProblems> {
    let text = #"{"run": "r", "items": {"file": "i.json"}, "#
        + (members.isEmpty ? "" : members + ", ") + #""phases": [\#(phases)]}"#
    return PipelineSpec.decode(Array(text.utf8))
}

private func problems(_ members: String, phases: String = phase) -> [String] {
    switch decode(members, phases: phases) {
    case .success: return []
    case .failure(let e): return e.problems.map(\.summary)
    }
}

@Suite struct SpecDecodingTests {
    @Test(arguments: [
        (#""batchsize": 5, \#(agent)"#, phase, "batchsize: unknown key; did you mean batchSize?"),
        (#""agent": {"argv": ["a"], "promt": "file"}"#, phase, "agent.promt: unknown key; did you mean prompt?"),
        (#""backoff": {"initalSeconds": 1}, \#(agent)"#, phase, "backoff.initalSeconds: unknown key; did you mean initialSeconds?"),
        (#""items2": 1, \#(agent)"#, phase, "items2: unknown key; did you mean items?"),
        (agent, #"{"id": "1", "validator": [], "output": {"file": "o", "strategy": "object"}}"#,
         "phases[0].validator: unknown key; did you mean validators?"),
        (agent, #"{"id": "1", "output": {"file": "o", "strategy": "object", "idfield": "id"}}"#,
         "phases[0].output.idfield: unknown key; did you mean idField?"),
        (agent, #"{"id": "1", "output": {"file": "o", "strategy": "object"}, "validators": [{"argv": ["x"], "timeout": 3}]}"#,
         "phases[0].validators[0].timeout: unknown key; did you mean timeoutSeconds?"),
        (#""agent": {"argv": ["a"], "transient": {"exitcode": [75]}}"#, phase,
         "agent.transient.exitcode: unknown key; did you mean exitCodes?"),
        (#""zzzzzz": 1, \#(agent)"#, phase, "zzzzzz: unknown key; expected one of version, run, items, batchSize, concurrency, "
            + "maxAttempts, timeoutSeconds, killGraceSeconds, settleMilliseconds, maxFileBytes, backoff, transientBackoff, "
            + "circuitBreaker, agent, agentsOnRestart, phases, prices, budget, reconcileSeconds, order, responders"),
    ])
    func unknownKeysNameTheNearestKnownKey(members: String, phases: String, expected: String) {
        #expect(problems(members, phases: phases) == [expected])
    }

    @Test func everyProblemIsReportedAtOnceWithItsPosition() throws {
        let text = """
        {"run": "r", "items": {"file": 3}, "batchsize": 2, "concurrency": "x",
         "agent": {"argv": ["a"], "prompt": "pipe", "transient": {"patterns": ["(unclosed"]}},
         "phases": [{"id": "1", "output": {"file": "o", "strategy": "tree"}},
                    {"id": ".x", "output": {"file": "p", "strategy": "object"}}]}
        """
        guard case .failure(let e) = PipelineSpec.decode(Array(text.utf8)) else {
            Issue.record("decoded a broken spec")
            return
        }
        #expect(e.problems.map(\.key) == [
            "batchsize", "items.file", "concurrency", "agent.prompt", "phases[0].output.strategy",
            "agent.transient.patterns[0]", "phases[1].id",
        ])
        #expect(e.problems[1].summary == "items.file: expected a string, got a number")
        #expect(e.problems[3].summary == #"agent.prompt: expected one of stdin, file, got "pipe""#)
        #expect(e.problems[0].position == JSONTextPosition(line: 1, column: 36))
        #expect(e.problems[1].position == JSONTextPosition(line: 1, column: 24))
        #expect(e.problems[4].position == JSONTextPosition(line: 3, column: 49))
        #expect(e.problems[4].description.hasSuffix("(line 3, column 49)"))
        #expect(e.problems[5].summary.hasPrefix("agent.transient.patterns[0]: not a valid regular expression"))
        #expect(e.problems[6].summary.hasPrefix(#"phases[1].id: expected a plain name, got ".x": it starts with '.'"#))
    }

    @Test func aMissingKeyPointsAtTheObjectItIsMissingFrom() throws {
        let text = "{\"run\": \"r\", \"items\": {\"file\": \"i\"}, \(agent),\n \"phases\": [{\"id\": \"1\"}]}"
        guard case .failure(let e) = PipelineSpec.decode(Array(text.utf8)) else { Issue.record("decoded"); return }
        #expect(e.problems.map(\.summary) == ["phases[0].output: missing; this key is required"])
        #expect(e.problems[0].position == JSONTextPosition(line: 2, column: 13))
    }

    @Test func aValueCheckOfAKeyThatCouldNotBeReadIsLeftOut() {
        // `run` is missing: no second problem about the empty stand-in name; the phase's agent
        // argv is unreadable: no "no agent command" for that phase.
        let p = problems("", phases: #"{"id": "1", "agent": {"argv": "claude"}, "output": {"file": "o", "strategy": "object"}}"#)
        #expect(p == ["phases[0].agent.argv: expected an array, got a string"])
    }

    @Test func newKeysHaveTheirDefaults() throws {
        let s = try decode(agent).get()
        #expect(s.transientBackoff == .init(initialSeconds: 5, multiplier: 2, maxSeconds: 300))
        #expect(s.circuitBreaker.consecutiveFailures == 3)
        let resolved = try #require(s.agent(for: s.phases[0]))
        #expect(resolved.transient.exitCodes == [])
        #expect(resolved.transient.patterns == [#"\b429\b"#, #"\b529\b"#, "(?i)rate[ _-]?limit", "(?i)overloaded", "(?i)quota"])
        #expect(resolved.prompt == .stdin && resolved.env == [:])
        for pattern in resolved.transient.patterns { _ = try Regex(pattern) }
    }

    @Test func newKeysAreReadAndChecked() throws {
        let s = try decode(#""transientBackoff": {"initialSeconds": 30}, "circuitBreaker": {"consecutiveFailures": 0}, "#
            + #""agent": {"argv": ["a"], "transient": {"exitCodes": [75], "patterns": ["busy"]}}"#).get()
        #expect(s.transientBackoff == .init(initialSeconds: 30, multiplier: 2, maxSeconds: 300))
        #expect(s.circuitBreaker.consecutiveFailures == 0)
        #expect(s.agent?.transient == .init(exitCodes: [75], patterns: ["busy"]))
        #expect(problems(#""circuitBreaker": {"consecutiveFailures": -1}, \#(agent)"#)
            == ["circuitBreaker.consecutiveFailures: expected a whole number ≥ 0 (0 disables it), got -1"])
        #expect(problems(#""transientBackoff": {"multiplier": 0.5}, \#(agent)"#)
            == ["transientBackoff.multiplier: expected a number ≥ 1, got 0.5"])
        #expect(problems(#""agent": {"argv": ["a"], "transient": {"exitCodes": ["x"]}}"#)
            == [#"agent.transient.exitCodes[0]: expected a whole number, got "x""#])
    }

    @Test func theOrderIsChainUnlessTheSpecSaysPhaseFirst() throws {
        #expect(try decode(agent).get().order == .chain)
        #expect(RunPlan(spec: try decode(agent).get(), itemCount: 4).order == .chain)
        let old = try decode(#""order": "phase-first", \#(agent)"#).get()
        #expect(old.order == .phaseFirst)
        #expect(RunPlan(spec: old, itemCount: 4).order == .phaseFirst)
        #expect(problems(#""order": "batch-first", \#(agent)"#) == [#"order: expected one of chain, phase-first, got "batch-first""#])
        #expect(problems(#""order": 1, \#(agent)"#) == ["order: expected one of chain, phase-first, got a number"])
    }

    @Test func aPhaseAgentIsMergedOverTheTopLevelOne() throws {
        let top = #""agent": {"argv": ["claude", "-p"], "prompt": "file", "env": {"A": "1", "B": "2"}, "transient": {"exitCodes": [75]}}"#
        let phases = #"{"id": "1", "agent": {"env": {"B": "phase", "C": "3"}}, "output": {"file": "o", "strategy": "object"}},"#
            + #"{"id": "2", "agent": {"argv": ["gemini"], "prompt": "stdin", "transient": {"patterns": ["x"]}}, "output": {"file": "p", "strategy": "object"}}"#
        let s = try decode(top, phases: phases).get()
        let one = try #require(s.agent(for: s.phases[0]))
        #expect(one == .init(argv: ["claude", "-p"], prompt: .file, env: ["A": "1", "B": "phase", "C": "3"],
                             transient: .init(exitCodes: [75])))
        let two = try #require(s.agent(for: s.phases[1]))
        #expect(two == .init(argv: ["gemini"], prompt: .stdin, env: ["A": "1", "B": "2"],
                             transient: .init(exitCodes: [], patterns: ["x"])))
    }

    @Test func aPhaseWithoutArgvAnywhereIsAnError() {
        let p = problems("", phases: #"{"id": "1", "agent": {"env": {"A": "1"}}, "output": {"file": "o", "strategy": "object"}}"#)
        #expect(p == ["phases[0].agent: no agent command here nor at the top level"])
    }

    @Test func templatesKeepTheirMemberOrder() throws {
        let s = try decode(agent, phases: #"{"id": "1", "output": {"file": "o", "strategy": "object", "key": "t", "template": {"z": 1, "a": {"t": []}, "t": {}}}}"#).get()
        #expect(s.phases[0].output.template?.text == Array(#"{"z":1,"a":{"t":[]},"t":{}}"#.utf8))
    }

    @Test(arguments: [
        ("r", nil), ("Spa_for-eng.2", nil), ("9", nil),
        (".x", "starts with '.' (hidden names are never read); start with a letter or digit"),
        ("_x", "starts with '_'; start with a letter or digit"),
        ("", "is empty"),
        (String(repeating: "a", count: 65), "is 65 bytes long, over 64"),
        ("a/b", "contains '/'; use ASCII letters, digits, '-', '_' and '.', starting with a letter or digit, at most 64 bytes"),
        ("é", "contains 'é'; use ASCII letters, digits, '-', '_' and '.', starting with a letter or digit, at most 64 bytes"),
    ] as [(String, String?)])
    func plainNames(name: String, problem: String?) {
        #expect(PlainName.check(name) == problem)
    }

    @Test func aRunNamedLikeAHiddenFileIsRefused() throws {
        let text = #"{"run": ".x", "items": {"file": "i"}, \#(agent), "phases": [\#(phase)]}"#
        guard case .failure(let e) = PipelineSpec.decode(Array(text.utf8)) else { Issue.record("decoded"); return }
        #expect(e.problems.map(\.key) == ["run"])
        #expect(ControlCommand.parse(try JSONParser.parse(#"{"command": "pause", "run": ".x"}"#)) == .failure(.init(#"missing or malformed "run" (a plain name)"#)))
    }

    @Test func theOneEscaperWritesShortEscapes() {
        #expect(JSONText.quoted("a\u{8}b\u{c}c\u{1}") == Array(#""a\bb\fc\u0001""#.utf8))
        #expect(JSONText.quoted("a\u{8}") == JSONValue.string("a\u{8}").serialized())
    }

    @Test func aValidationReportRoundTripsThroughItsJSON() throws {
        let report = ValidationReport.from(errors: [.init(type: "missing_item", item: "S1", message: "m\n\"q\"", suggestion: "s"),
                                                    .init(type: "invalid_json", message: "x")], stats: ["items": 3, "a": 1])
        #expect(try ValidationReport.parse(report.json.prettySerialized()).get() == report)
        #expect(try ValidationReport.parse(report.json.serialized()).get() == report)
        #expect(String(decoding: JSONValue.object([("a", [1, [:] as JSONValue])]).prettySerialized(), as: UTF8.self)
            == "{\n  \"a\": [\n    1,\n    {}\n  ]\n}")
        guard case .failure(let e) = ValidationReport.parse(Array(#"{"valid": 1}"#.utf8)) else { Issue.record("parsed"); return }
        #expect(e.message == #""valid": expected true or false"#)
    }
}
