import Foundation
import XCTest

/// The command line itself: usage, exit codes (0 done, 1 failure, 64 usage), spec errors.
final class CLITests: EndToEndTestCase {
    func testHelpAndVersion() throws {
        let sandbox = try makeSandbox()
        for args in [["help"], ["--help"], []] {
            let r = try sandbox.run(args)
            XCTAssertEqual(r.exitCode, 0, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("USAGE"), "\(args): \(r.stdout)")
            XCTAssertTrue(r.stdout.contains("agent-watcher run --pipeline FILE"), r.stdout)
            XCTAssertEqual(r.stderr, "")
        }
        let version = try sandbox.run(["--version"])
        XCTAssertEqual(version.exitCode, 0)
        XCTAssertTrue(version.stdout.hasPrefix("agent-watcher "), version.stdout)
    }

    func testUsageErrorsExit64() throws {
        let sandbox = try makeSandbox()
        let cases: [(args: [String], message: String)] = [
            (["frobnicate"], "unknown command 'frobnicate'"),
            (["run"], "--pipeline"),
            (["run", "--root", sandbox.root], "--pipeline"),
            (["status", "--bogus"], "unknown option --bogus"),
            (["tail", "--root", sandbox.root, "extra"], "unexpected argument 'extra'"),
            (["demo", "--seed", "many"], "--seed expects a whole number"),
        ]
        for c in cases {
            let r = try sandbox.run(c.args)
            XCTAssertEqual(r.exitCode, 64, "\(c.args): \(r.stdout) \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(c.message), "\(c.args): stderr \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("agent-watcher help"), "\(c.args) points to help: \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.path("mailbox")), "a usage error starts nothing")
    }

    func testBrokenSpecExits1NamingTheFileAndTheKey() throws {
        let sandbox = try makeSandbox()
        let cases: [(strategy: Any, name: String)] = [(5, "number"), ("bogus", "string")]
        for c in cases {
            var spec = Fixtures.spec(run: "bad", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")])
            spec["phases"] = [["id": "p1", "output": ["file": "out/p1.json", "strategy": c.strategy, "key": "results"]]]
            let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 2, agentBody: "exit 0")
            let r = try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root], within: 20)
            XCTAssertEqual(r.exitCode, 1, "strategy as a \(c.name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(path), "strategy as a \(c.name): names the file: \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("phases[0].output.strategy"), "strategy as a \(c.name): names the key: \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("expected one of object, array, jsonl"),
                          "strategy as a \(c.name): lists what is allowed: \(r.stderr)")
            if c.name == "string" { XCTAssertTrue(r.stderr.contains("got \"bogus\""), "says what it got: \(r.stderr)") }
        }
        let missing = try sandbox.run(["run", "--pipeline", sandbox.path("nowhere.json"), "--root", sandbox.root], within: 20)
        XCTAssertEqual(missing.exitCode, 1, missing.stderr)
        XCTAssertTrue(missing.stderr.contains(sandbox.path("nowhere.json")), missing.stderr)
        let events = try EventLog.read(sandbox.eventLog)
        XCTAssertFalse(events.contains { $0.event == "batch.transition" }, "no batch started from a broken spec")
    }

    func testStatusAndTailOnAnEmptyRoot() throws {
        let sandbox = try makeSandbox()
        let status = try sandbox.run(["status", "--root", sandbox.root])
        XCTAssertEqual(status.exitCode, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("nothing has run"), status.stdout)
        let tail = try sandbox.run(["tail", "--root", sandbox.root])
        XCTAssertEqual(tail.exitCode, 1)
        XCTAssertTrue(tail.stderr.contains("no event log"), tail.stderr)
    }

    /// The usage line promises `--pipeline FILE [--pipeline FILE ...]`: every one is run.
    func testRepeatedPipelineOptionRunsEveryPipeline() throws {
        let sandbox = try makeSandbox()
        var paths: [String] = []
        for run in ["one", "two"] {
            let spec = Fixtures.spec(run: run, batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/\(run).json")])
            paths.append(try Fixtures.install(in: sandbox, spec: spec, itemCount: 2, agentBody: "object_batch $start $end | publish \"$out\""))
        }
        let daemon = try sandbox.start(["run", "--pipeline", paths[0], "--pipeline", paths[1], "--root", sandbox.root])
        let started = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "watcher.started") {
            $0.event == "watcher.started"
        }
        XCTAssertEqual(started["runs"]?.strings, ["one", "two"], started.line)
        try daemon.stop()
    }
}
