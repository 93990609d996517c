import Foundation
import XCTest

/// `agent-watcher check`: every problem of a spec at once, naming the file and the key; `run`
/// refuses the same specs; `check --prompt` prints what an agent would be given.
final class CheckCommandTests: EndToEndTestCase {
    private func install(_ sandbox: Sandbox, run: String = "c", phase: [String: Any]? = nil,
                         overrides: [String: Any] = [:]) throws -> String {
        let p = phase ?? Fixtures.objectPhase("p1", file: "out/p1.json")
        let spec = Fixtures.spec(run: run, batchSize: 2, phases: [p], overrides: overrides)
        return try Fixtures.install(in: sandbox, spec: spec, itemCount: 5, agentBody: "exit 0")
    }

    func testACleanSpecPasses() throws {
        let sandbox = try makeSandbox()
        let path = try install(sandbox)
        let r = try sandbox.run(["check", path])
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual(r.stdout, "\(path): ok (c: 1 phases, 5 items, 3 batches)\n")
        XCTAssertEqual(r.stderr, "")
        XCTAssertFalse(sandbox.exists("mailbox"), "check writes nothing")
    }

    func testTypodKeysAreRefusedByCheckAndByRunWithTheNearestKey() throws {
        let sandbox = try makeSandbox()
        let phase = Fixtures.objectPhase("p1", file: "out/p1.json", extra: ["validator": [["argv": ["/bin/true"]]]])
        let path = try install(sandbox, phase: phase, overrides: ["batchsize": 3])
        for args in [["check", path], ["run", "--pipeline", path, "--root", sandbox.root]] {
            let r = try sandbox.run(args, within: 20)
            XCTAssertEqual(r.exitCode, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("\(path): batchsize: unknown key; did you mean batchSize? (line "), "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("\(path): phases[0].validator: unknown key; did you mean validators? (line "),
                          "\(args): both problems at once: \(r.stderr)")
        }
        XCTAssertFalse(sandbox.exists("logs/events.jsonl"), "run started nothing")
    }

    func testMissingFilesAndProgramsAreNamedByKey() throws {
        let sandbox = try makeSandbox()
        let phase = Fixtures.objectPhase("p1", file: "out/p1.json", extra: [
            "instructions": "prompts/p1.md",
            "validators": [["argv": ["no-such-validator-program", "checks/p1.py", "{batch_file}"]]],
        ])
        let path = try install(sandbox, phase: phase)
        let r = try sandbox.run(["check", path])
        XCTAssertEqual(r.exitCode, 1, r.stderr)
        XCTAssertEqual(r.stdout, "", "no ok line for a spec with problems")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, [
            "\(path): phases[0].instructions: no file \(sandbox.root)/prompts/p1.md",
            "\(path): phases[0].validators[0].argv[0]: no program \"no-such-validator-program\" on PATH (\(ProcessInfo.processInfo.environment["PATH"] ?? "unset"))",
            "\(path): phases[0].validators[0].argv[1]: no file \(sandbox.root)/checks/p1.py",
        ], r.stderr)
        let run = try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root], within: 20)
        XCTAssertEqual(run.exitCode, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("phases[0].instructions: no file"), run.stderr)
        try sandbox.write("prompts/p1.md", "# do it\n")
        try sandbox.write("checks/p1.py", "")
        let after = try sandbox.run(["check", path])
        XCTAssertEqual(after.stderr.split(separator: "\n").count, 1, "only the program is left: \(after.stderr)")
    }

    func testAnAgentProgramThatIsNotThereAndDuplicateRuns() throws {
        let sandbox = try makeSandbox()
        let a = try install(sandbox, run: "dup", overrides: ["agent": ["argv": ["./bin/agent"]]])
        let spec = Fixtures.spec(run: "dup", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/q.json")])
        let data = try JSONSerialization.data(withJSONObject: spec)
        try sandbox.write("second.json", String(decoding: data, as: UTF8.self))
        let r = try sandbox.run(["check", a, sandbox.path("second.json")])
        XCTAssertEqual(r.exitCode, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(a): agent.argv[0]: no program \(sandbox.root)/./bin/agent"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(sandbox.path("second.json")): run: \"dup\" is already the run of \(a)"), r.stderr)
        XCTAssertTrue(r.stdout.isEmpty, r.stdout)
    }

    func testCheckPromptPrintsTheBatchsItemsAndSpawnsNothing() throws {
        let sandbox = try makeSandbox()
        try sandbox.write("p1.md", "# Translate these\n")
        let path = try install(sandbox, phase: Fixtures.objectPhase("p1", file: "out/p1.json", extra: ["instructions": "p1.md"]))
        let before = sandbox.list(".")
        let r = try sandbox.run(["check", "--prompt", "p1", "2", path, "--root", sandbox.root])
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("# Translate these"), r.stdout)
        XCTAssertTrue(r.stdout.contains(#""id":"i3""#) && r.stdout.contains(#""id":"i4""#), r.stdout)
        XCTAssertFalse(r.stdout.contains(#""id":"i5""#) || r.stdout.contains(#""id":"i2""#), "only batch 2's items: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("\(sandbox.root)/mailbox/c/outbox/p1_batch_2.json"), r.stdout)
        XCTAssertEqual(sandbox.list("."), before, "check --prompt writes nothing")
        XCTAssertFalse(sandbox.exists("mailbox"), "check --prompt writes nothing")
        let bad = try sandbox.run(["check", "--prompt", "p1", "9", path])
        XCTAssertEqual(bad.exitCode, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("the run has batches 1 to 3"), bad.stderr)
        let usage = try sandbox.run(["check"])
        XCTAssertEqual(usage.exitCode, 64, usage.stderr)
    }
}
