import Foundation
import Testing
@testable import WatcherCore

private func validSpec() -> PipelineSpec {
    var s = PipelineSpec(run: "spa_for_eng", items: .init(file: "seeds.json", key: "seeds", idField: "id"), phases: [
        .init(id: "1", output: .init(file: "out/seed_pairs.json", strategy: .object, key: "translations")),
        .init(id: "3", output: .init(file: "out/lego_pairs.json", strategy: .array, key: "seeds", idField: "seed_id")),
    ])
    s.agent = .init(argv: ["claude", "-p"], prompt: .stdin, env: nil)
    return s
}

struct SpecProblemCase: Sendable, CustomTestStringConvertible {
    var name: String
    var change: @Sendable (inout PipelineSpec) -> Void
    var expected: [String]
    var testDescription: String { name }
}

private let problemCases: [SpecProblemCase] = [
    .init(name: "valid", change: { _ in }, expected: []),
    .init(name: "run with a slash", change: { $0.run = "a/b" },
          expected: [#"run: expected a plain name, got "a/b": it contains '/'; use ASCII letters, digits, '-', '_' and '.', starting with a letter or digit, at most 64 bytes"#]),
    .init(name: "run ..", change: { $0.run = ".." },
          expected: [#"run: expected a plain name, got "..": it starts with '.' (hidden names are never read); start with a letter or digit"#]),
    .init(name: "version", change: { $0.version = 2 }, expected: ["version: expected 1, got 2"]),
    .init(name: "batchSize", change: { $0.batchSize = 0 }, expected: ["batchSize: expected a whole number ≥ 1, got 0"]),
    .init(name: "concurrency", change: { $0.concurrency = -1 }, expected: ["concurrency: expected a whole number ≥ 1, got -1"]),
    .init(name: "maxAttempts", change: { $0.maxAttempts = 0 }, expected: ["maxAttempts: expected a whole number ≥ 1, got 0"]),
    .init(name: "timeoutSeconds 0", change: { $0.timeoutSeconds = 0 }, expected: ["timeoutSeconds: expected a number > 0, got 0.0"]),
    .init(name: "timeoutSeconds nan", change: { $0.timeoutSeconds = .nan }, expected: ["timeoutSeconds: expected a number > 0, got nan"]),
    .init(name: "settleMilliseconds", change: { $0.settleMilliseconds = -1 }, expected: ["settleMilliseconds: expected ≥ 0, got -1"]),
    .init(name: "maxFileBytes", change: { $0.maxFileBytes = 0 }, expected: ["maxFileBytes: expected ≥ 1, got 0"]),
    .init(name: "items.file", change: { $0.items.file = "" }, expected: ["items.file: expected the path of the run's items file"]),
    .init(name: "no phases", change: { $0.phases = [] }, expected: ["phases: expected at least one phase"]),
    .init(name: "empty agent argv", change: { $0.agent?.argv = [] },
          expected: ["agent.argv: expected a non-empty array (the program and its arguments)"]),
    .init(name: "no agent anywhere", change: { $0.agent = nil }, expected: [
        "phases[0].agent: no agent command here nor at the top level",
        "phases[1].agent: no agent command here nor at the top level",
    ]),
    .init(name: "agent on one phase only", change: { $0.agent = nil; $0.phases[0].agent = .init(argv: ["x"]) },
          expected: ["phases[1].agent: no agent command here nor at the top level"]),
    .init(name: "phase agent with empty argv", change: { $0.phases[1].agent = .init(argv: []) },
          expected: ["phases[1].agent.argv: expected a non-empty array"]),
    .init(name: "phase id not plain", change: { $0.phases[0].id = "../x" },
          expected: [#"phases[0].id: expected a plain name, got "../x": it contains '/'; use ASCII letters, digits, '-', '_' and '.', starting with a letter or digit, at most 64 bytes"#]),
    .init(name: "duplicate phase id", change: { $0.phases[1].id = "1" },
          expected: [#"phases[1].id: "1" is used by an earlier phase"#]),
    .init(name: "input from a later phase", change: { $0.phases[0].input = "3" },
          expected: [#"phases[0].input: expected "items" or the id of an earlier phase, got "3""#]),
    .init(name: "input from an earlier phase is fine", change: { $0.phases[1].input = "1" }, expected: []),
    .init(name: "array without idField", change: { $0.phases[1].output.idField = nil },
          expected: ["phases[1].output.idField: the array strategy needs the member that holds each item's id"]),
    .init(name: "jsonl with empty idField and a key", change: {
        $0.phases[1].output.strategy = .jsonl
        $0.phases[1].output.idField = ""
    }, expected: [
        "phases[1].output.idField: the jsonl strategy needs the member that holds each item's id",
        "phases[1].output.key: a jsonl file has no top-level key; leave it out",
    ]),
    .init(name: "output file", change: { $0.phases[0].output.file = "" },
          expected: ["phases[0].output.file: expected the path of the phase's main output file"]),
    .init(name: "rules are not the shape's business (a RuleRegistry checks them)", change: { $0.phases[0].rules = "x" },
          expected: []),
    .init(name: "validator argv", change: { $0.phases[1].validators = [.init(argv: ["ok"]), .init(argv: [])] },
          expected: ["phases[1].validators[1].argv: expected a non-empty array"]),
    .init(name: "several at once, in key order", change: { $0.batchSize = 0; $0.run = "" }, expected: [
        #"run: expected a plain name, got "": it is empty"#,
        "batchSize: expected a whole number ≥ 1, got 0",
    ]),
]

struct ControlCase: Sendable, CustomTestStringConvertible {
    var text: String
    var expected: Result<ControlCommand, ControlMessageError>
    var testDescription: String { text }
}

private func ok(_ verb: ControlCommand.Verb, _ run: String = "r", phase: String? = nil, batch: Int? = nil, id: String? = nil,
                max: Int? = nil, force: Bool = false) -> Result<ControlCommand, ControlMessageError> {
    .success(ControlCommand(verb: verb, run: run, phase: phase, batch: batch, id: id, max: max, force: force))
}

private func bad(_ message: String) -> Result<ControlCommand, ControlMessageError> { .failure(.init(message)) }

private let controlCases: [ControlCase] = [
    .init(text: #"{"command":"pause","run":"r"}"#, expected: ok(.pause)),
    .init(text: #"{"command":"resume","run":"spa_for_eng","id":"m-1"}"#, expected: ok(.resume, "spa_for_eng", id: "m-1")),
    .init(text: #"{"command":"retry","run":"r","phase":"3","batch":7}"#, expected: ok(.retry, phase: "3", batch: 7)),
    .init(text: #"{"command":"skip","run":"r","phase":3,"batch":"7"}"#, expected: ok(.skip, phase: "3", batch: 7)),
    .init(text: #"{"command":"cancel","run":"r"}"#, expected: ok(.cancel)),
    .init(text: #"{"command":"cancel","run":"r","phase":"1","batch":2}"#, expected: ok(.cancel, phase: "1", batch: 2)),
    .init(text: #"{"command":"drain","run":"r","max":2,"force":true}"#, expected: ok(.drain, max: 2, force: true)),
    .init(text: #"{"command":"explode","run":"r"}"#,
          expected: bad(#"unknown command "explode"; expected one of pause, resume, retry, skip, cancel, drain"#)),
    .init(text: #"{"command":7,"run":"r"}"#, expected: bad(#"missing "command" (a string)"#)),
    .init(text: #"{"run":"r"}"#, expected: bad(#"missing "command" (a string)"#)),
    .init(text: #"["pause"]"#, expected: bad("expected a JSON object")),
    .init(text: #"{"command":"pause"}"#, expected: bad(#"missing or malformed "run" (a plain name)"#)),
    .init(text: #"{"command":"pause","run":"../etc"}"#, expected: bad(#"missing or malformed "run" (a plain name)"#)),
    .init(text: #"{"command":"pause","run":"a/b"}"#, expected: bad(#"missing or malformed "run" (a plain name)"#)),
    .init(text: #"{"command":"retry","run":"r","phase":"3"}"#, expected: bad(#"give both "phase" and "batch", or neither"#)),
    .init(text: #"{"command":"retry","run":"r","batch":3}"#, expected: bad(#"give both "phase" and "batch", or neither"#)),
    .init(text: #"{"command":"retry","run":"r"}"#, expected: bad(#"retry needs "phase" and "batch""#)),
    .init(text: #"{"command":"skip","run":"r"}"#, expected: bad(#"skip needs "phase" and "batch""#)),
    .init(text: #"{"command":"pause","run":"r","phase":"1","batch":1}"#, expected: bad("pause applies to a whole run")),
    .init(text: #"{"command":"drain","run":"r","phase":"1","batch":1}"#, expected: bad("drain applies to a whole run")),
    .init(text: #"{"command":"skip","run":"r","phase":"1","batch":0}"#, expected: bad(#""batch" must be a whole number ≥ 1"#)),
    .init(text: #"{"command":"skip","run":"r","phase":"1","batch":1.5}"#, expected: bad(#""batch" must be a whole number ≥ 1"#)),
    .init(text: #"{"command":"skip","run":"r","phase":"a/b","batch":1}"#, expected: bad(#""phase" must be a plain name"#)),
    .init(text: #"{"command":"skip","run":"r","phase":true,"batch":1}"#, expected: bad(#""phase" must be a plain name"#)),
    .init(text: #"{"command":"pause","run":"r","id":"a b"}"#, expected: bad(#""id" must be a plain name"#)),
    .init(text: #"{"command":"drain","run":"r","max":0}"#, expected: bad(#""max" must be a whole number ≥ 1"#)),
    .init(text: #"{"command":"drain","run":"r","force":"yes"}"#, expected: bad(#""force" must be true or false"#)),
]

@Suite struct PipelineSpecTests {
    @Test func decodingFillsEveryDefault() throws {
        let json = #"{"run":"r","items":{"file":"i.json"},"agent":{"argv":["a"]},"phases":[{"id":"1","output":{"file":"o.json","strategy":"object"}}]}"#
        let s = try PipelineSpec.decode(Array(json.utf8)).get()
        #expect(s.version == 1)
        #expect(s.batchSize == 20)
        #expect(s.concurrency == 2)
        #expect(s.maxAttempts == 3)
        #expect(s.timeoutSeconds == 600)
        #expect(s.killGraceSeconds == 5)
        #expect(s.settleMilliseconds == 200)
        #expect(s.maxFileBytes == 64 << 20)
        #expect(s.backoff == PipelineSpec.Backoff(initialSeconds: 1, multiplier: 2, maxSeconds: 60))
        #expect(s.transientBackoff == PipelineSpec.Backoff(initialSeconds: 5, multiplier: 2, maxSeconds: 300))
        #expect(s.circuitBreaker.consecutiveFailures == 3)
        #expect(s.agent?.argv == ["a"])
        #expect(s.items == .init(file: "i.json"))
        #expect(s.phases.count == 1 && s.phases[0].maxAttempts == nil && s.phases[0].timeoutSeconds == nil)
        // Decoding and the Swift initialiser agree on every default.
        var built = PipelineSpec(run: "r", items: .init(file: "i.json"),
                                 phases: [.init(id: "1", output: .init(file: "o.json", strategy: .object))])
        built.agent = .init(argv: ["a"])
        #expect(s == built)
    }

    @Test func aPartialBackoffKeepsTheOtherDefaults() throws {
        let json = #"{"run":"r","items":{"file":"i"},"agent":{"argv":["a"]},"backoff":{"multiplier":3},"phases":[{"id":"1","output":{"file":"o","strategy":"object"}}]}"#
        let s = try PipelineSpec.decode(Array(json.utf8)).get()
        #expect(s.backoff == PipelineSpec.Backoff(initialSeconds: 1, multiplier: 3, maxSeconds: 60))
    }

    @Test(arguments: [(1, 1.0), (0, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (50, 60.0)])
    func backoffDoublesUpToTheLimit(failedAttempt: Int, seconds: Double) {
        #expect(PipelineSpec.Backoff().delay(afterAttempt: failedAttempt) == seconds)
    }

    @Test(arguments: problemCases)
    func problemsNameTheKey(_ c: SpecProblemCase) {
        var s = validSpec()
        c.change(&s)
        #expect(s.problems() == c.expected)
    }

    @Test func runPlanTakesPhaseOverridesElseTheRunsValues() {
        var s = validSpec()
        s.maxAttempts = 4
        s.timeoutSeconds = 90
        s.phases[1].maxAttempts = 7
        s.phases[1].timeoutSeconds = 12
        s.batchSize = 20
        let plan = RunPlan(spec: s, itemCount: 41)
        #expect(plan.phases == [.init(id: "1", maxAttempts: 4, timeoutSeconds: 90), .init(id: "3", maxAttempts: 7, timeoutSeconds: 12)])
        #expect(plan.batchCount == 3)
        #expect(plan.itemRange(ofBatch: 1) == 0..<20)
        #expect(plan.itemRange(ofBatch: 3) == 40..<41)
        #expect(plan.dependency(of: sm("3", 2, run: "spa_for_eng")) == sm("1", 2, run: "spa_for_eng"))
        #expect(plan.dependency(of: sm("1", 2, run: "spa_for_eng")) == nil)
        #expect(plan.dependant(of: sm("1", 3, run: "spa_for_eng")) == sm("3", 3, run: "spa_for_eng"))
        #expect(plan.dependant(of: sm("3", 3, run: "spa_for_eng")) == nil)
        #expect(RunPlan(spec: s, itemCount: 0).batchIDs.isEmpty)
        #expect(RunPlan(spec: s, itemCount: 40).batchCount == 2)
    }

    @Test func inputPhaseDefaultsToThePreviousPhase() {
        var s = validSpec()
        s.phases.append(.init(id: "5", output: .init(file: "o5", strategy: .object)))
        #expect(s.inputPhase(of: s.phases[0]) == nil)
        #expect(s.inputPhase(of: s.phases[1])?.id == "1")
        #expect(s.inputPhase(of: s.phases[2])?.id == "3")
        s.phases[2].input = "1"
        #expect(s.inputPhase(of: s.phases[2])?.id == "1")
        s.phases[2].input = "items"
        #expect(s.inputPhase(of: s.phases[2]) == nil)
        s.phases[1].agent = .init(argv: ["own"])
        #expect(s.agent(for: s.phases[1])?.argv == ["own"])
        #expect(s.agent(for: s.phases[0])?.argv == ["claude", "-p"])
    }

    @Test(arguments: [
        ("spa_for_eng", true), ("a-b.c_1", true), ("3", true), ("A.b", true), (String(repeating: "a", count: 64), true),
        ("", false), (".", false), ("..", false), (".x", false), ("_x", false), ("-x", false), ("ñandú", false),
        ("a/b", false), ("a b", false), ("a\u{0}b", false), ("a:b", false), (String(repeating: "a", count: 65), false),
        ("x\n", false),
    ])
    func plainNames(name: String, plain: Bool) {
        #expect((PlainName.check(name) == nil) == plain, "\(PlainName.check(name) ?? "plain")")
    }

    // MARK: ControlCommand.parse

    @Test(arguments: controlCases)
    func controlMessages(_ c: ControlCase) throws {
        let v = try JSONParser.parse(c.text)
        #expect(ControlCommand.parse(v) == c.expected)
    }
}
