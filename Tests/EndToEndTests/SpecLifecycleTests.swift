import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem
import XCTest

/// A pipeline's first week, as a user lives it: the spec changed between runs, items appended,
/// an agent CLI that is overloaded, a validator that cannot run, a skip.
final class SpecLifecycleTests: EndToEndTestCase {
    func items(_ sandbox: Sandbox, _ main: String) throws -> [String] {
        try containerItems(sandbox.read(main), key: "results", idField: nil).map(\.id)
    }

    /// The README's reproduction: batches 1-3 merged, batch 4 running, `batchSize` 2 -> 5.
    /// The start refuses, naming the key, the logged and the new value, and writes nothing;
    /// with the spec put back the run ends with every item exactly once.
    func testBatchSizeChangedMidRunIsRefusedAndNothingIsLost() throws {
        let sandbox = try makeSandbox()
        var spec = Fixtures.spec(run: "wk", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["concurrency": 1])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 10, agentBody: """
        if [ "$batch" -ge 4 ]; then wait_for e2e/go; fi
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "p1/4 running") {
            $0.isTransition(phase: "p1", batch: 4, from: "spawning", to: "running")
        }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let before = try EventLog.read(sandbox.eventLog).count

        spec["batchSize"] = 5
        try Fixtures.install(in: sandbox, spec: spec, itemCount: 10)
        let refused = try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root], within: 20)
        XCTAssertEqual(refused.exitCode, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("wk.json: batchSize: the log fixed 2 when the run started; the spec now has 5"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("\"wk-2\""), "the second way on: a new run name\n\(refused.stderr)")
        XCTAssertEqual(try EventLog.read(sandbox.eventLog).count, before, "a refused start writes nothing")

        spec["batchSize"] = 2
        try Fixtures.install(in: sandbox, spec: spec, itemCount: 10)
        try sandbox.write("e2e/go", "")
        let again = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: again, "run.completed") { $0.isEvent("run.completed", run: "wk") }
        XCTAssertEqual(try again.stop(), .exited(0), again.stderr)
        XCTAssertEqual(try items(sandbox, "out/p1.json"), (1...10).map { "i\($0)" })
        try assertWellFormedLog(sandbox.eventLog)
    }

    /// Items appended to a completed run become new batches: `run.extended`, then the run
    /// completes again with them merged; a changed setting is logged with old and new value.
    func testItemsAppendedToACompletedRunAreProcessed() throws {
        let sandbox = try makeSandbox()
        var spec = Fixtures.spec(run: "grow", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 5, agentBody: """
        object_batch $start $end | publish "$out"
        """)
        let first = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: first, "run.completed") { $0.isEvent("run.completed", run: "grow") }
        XCTAssertEqual(try first.stop(), .exited(0), first.stderr)

        spec["timeoutSeconds"] = 30
        try Fixtures.install(in: sandbox, spec: spec, itemCount: 8)
        let second = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: second, "the second run.completed") {
            $0.isEvent("run.completed", run: "grow") && $0["merged"]?.int == 5
        }
        XCTAssertEqual(try second.stop(), .exited(0), second.stderr)
        let log = try EventLog.read(sandbox.eventLog)
        let extended = try XCTUnwrap(log.first { $0.event == "run.extended" })
        XCTAssertEqual(extended["added_items"]?.int, 3)
        XCTAssertEqual(extended["added_batches"]?.int, 2, "item 5's batch stays as it was logged: 6-7 and 8 are new")
        let changed = try XCTUnwrap(log.first { $0.event == "spec.changed" })
        XCTAssertEqual(changed["changes"]?.strings, ["timeoutSeconds: 20 -> 30"])
        XCTAssertTrue(log.contains { $0.isTransition(phase: "p1", batch: 3, to: "merged") } && !log.contains {
            $0.isTransition(phase: "p1", batch: 3, to: "merged") && $0.seq > extended.seq
        }, "batch 3 (item 5) was merged once, before the extension")
        XCTAssertEqual(try items(sandbox, "out/p1.json"), (1...8).map { "i\($0)" })
        let status = try sandbox.run(["status", "--root", sandbox.root])
        XCTAssertTrue(status.stdout.contains("5"), status.stdout)
    }

    /// `529 Overloaded` on stderr and exit 1, three times, then success: transient, the run
    /// backs off (doubling), no attempt is used (maxAttempts is 1), and the batch merges.
    func testAnOverloadedAgentCLIBacksTheRunOffWithoutUsingAttempts() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "busy", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1, "concurrency": 1,
                                             "transientBackoff": ["initialSeconds": 0.1, "multiplier": 2, "maxSeconds": 1]])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 2, agentBody: """
        n=$(cat e2e/calls 2>/dev/null || echo 0); n=$((n+1)); echo $n > e2e/calls
        if [ "$n" -le 3 ]; then echo "API Error: 529 Overloaded" >&2; exit 1; fi
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: "busy") }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let log = try EventLog.read(sandbox.eventLog)
        let transient = log.filter { $0.isTransition(phase: "p1", batch: 1, to: "retry_wait") }
        XCTAssertEqual(transient.count, 3)
        XCTAssertTrue(transient.allSatisfy { $0.reason == "transient" && $0["class"]?.string == "transient" && $0.attempt == 1 })
        XCTAssertEqual(log.filter { $0.event == "run.backoff" }.compactMap { $0["delay_ms"]?.int }, [100, 200, 400])
        XCTAssertTrue(log.contains { $0.isTransition(phase: "p1", batch: 1, to: "merged", attempt: 1) })
        XCTAssertFalse(try sandbox.read("logs/agents/busy/p1-1-1.prompt.md").contains("529"), "nothing of it reaches the prompt")
        XCTAssertEqual(try items(sandbox, "out/p1.json"), ["i1", "i2"])
    }

    /// A validator that cannot run (exit 127) is not the agent's fault: the run pauses with the
    /// reason, the output stays; fixed and resumed, the same output is checked and merged.
    func testAValidatorThatCannotRunPausesTheRunAndResumeChecksTheSameOutput() throws {
        let sandbox = try makeSandbox()
        let validators: [[String: Any]] = [["argv": ["/bin/sh", "check.sh"], "timeoutSeconds": 10]]
        let spec = Fixtures.spec(run: "val", batchSize: 2, phases: [
            Fixtures.objectPhase("p1", file: "out/p1.json", extra: ["validators": validators]),
        ], overrides: ["maxAttempts": 1])
        try sandbox.write("check.sh", "exec ./no-such-checker \"$@\"\n")
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 2, agentBody: """
        echo x >> e2e/agent-runs
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        let paused = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.paused") { $0.event == "run.paused" }
        XCTAssertEqual(paused.reason, "validator_failed")
        XCTAssertTrue(paused["message"]?.string?.contains("check.sh") ?? false, paused.line)
        XCTAssertTrue(sandbox.exists("mailbox/val/outbox/p1_batch_1.json"), "the output is kept where it was")
        try sandbox.write("check.sh", "exit 0\n")
        let resumed = try sandbox.run(["resume", "val", "--root", sandbox.root], within: 20)
        XCTAssertEqual(resumed.exitCode, 0, resumed.stderr)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: "val") }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let log = try EventLog.read(sandbox.eventLog)
        let failed = try XCTUnwrap(log.first { $0.isTransition(phase: "p1", batch: 1, to: "retry_wait") })
        XCTAssertEqual(failed["class"]?.string, "validator_failed")
        XCTAssertTrue(log.contains { $0.isTransition(phase: "p1", batch: 1, to: "merged", attempt: 1) })
        XCTAssertEqual(try sandbox.read("e2e/agent-runs"), "x\n", "the agent ran once")
        XCTAssertEqual(try items(sandbox, "out/p1.json"), ["i1", "i2"])
    }

    /// Skip means skip: the dependant of a skipped batch is skipped too (never spawned with
    /// empty input); retry of the skipped batch brings it back.
    func testSkipSkipsTheDependantsAndRetryBringsThemBack() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "sk", batchSize: 2, phases: [
            Fixtures.objectPhase("p1", file: "out/p1.json"), Fixtures.objectPhase("p2", file: "out/p2.json"),
        ], overrides: ["maxAttempts": 1])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: """
        if [ "$phase/$batch" = p1/1 ] && [ ! -e e2e/fixed ]; then exit 3; fi
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: "sk") }
        let skip = try sandbox.run(["skip", "sk", "p1", "1", "--root", sandbox.root], within: 20)
        XCTAssertEqual(skip.exitCode, 0, skip.stderr)
        var log = try EventLog.read(sandbox.eventLog)
        let skipped = try XCTUnwrap(log.last { $0.isTransition(phase: "p2", batch: 1, to: "skipped") })
        XCTAssertEqual(skipped.reason, "dependency_skipped")
        XCTAssertFalse(log.contains { $0.isTransition(phase: "p2", batch: 1, to: "spawning") }, "p2/1 never ran")

        try sandbox.write("e2e/fixed", "")
        let retry = try sandbox.run(["retry", "sk", "p1", "1", "--root", sandbox.root], within: 20)
        XCTAssertEqual(retry.exitCode, 0, retry.stderr)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "p2/1 merged") {
            $0.isTransition(phase: "p2", batch: 1, to: "merged")
        }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        log = try EventLog.read(sandbox.eventLog)
        XCTAssertEqual(try items(sandbox, "out/p2.json"), ["i1", "i2", "i3", "i4"])
        XCTAssertTrue(log.contains { $0.isTransition(phase: "p2", batch: 1, from: "skipped", to: "pending") })
    }

    /// SIGHUP: a refused change is reported and the old spec kept; an allowed one (items
    /// appended, a timeout) is applied and logged, and the new batches run.
    func testReloadRefusesAPlanChangeAndAppliesAnAppend() throws {
        let sandbox = try makeSandbox()
        var spec = Fixtures.spec(run: "hup", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: """
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: "hup") }
        spec["batchSize"] = 3
        try Fixtures.install(in: sandbox, spec: spec, itemCount: 4)
        try daemon.signal(SIGHUP)
        let rejected = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "spec.rejected") { $0.event == "spec.rejected" }
        XCTAssertTrue(rejected.reason?.contains("batchSize: the log fixed 2") ?? false, rejected.line)
        spec["batchSize"] = 2
        try Fixtures.install(in: sandbox, spec: spec, itemCount: 6)
        try daemon.signal(SIGHUP)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "the run completed again") {
            $0.isEvent("run.completed", run: "hup") && $0["merged"]?.int == 3
        }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let log = try EventLog.read(sandbox.eventLog)
        XCTAssertTrue(log.contains { $0.event == "run.extended" && $0["added_items"]?.int == 2 })
        XCTAssertTrue(log.contains { $0.event == "spec.reloaded" })
        XCTAssertEqual(try items(sandbox, "out/p1.json"), (1...6).map { "i\($0)" })
    }
}
