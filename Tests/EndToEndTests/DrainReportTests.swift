import Foundation
import Glibc
import WatcherSystem
import XCTest

/// `drain` waits until the re-queued batches ended, prints the summary and writes it to
/// `logs/drains/<id>.json`; `drain --report ID` prints it again.
final class DrainReportTests: EndToEndTestCase {
    /// Starts a daemon on `pipeline` and waits for its first pass to complete; its pid.
    private func startAndComplete(_ sandbox: Sandbox, pipeline path: String) throws -> pid_t {
        let started = try sandbox.run(["run", "--daemon", "--pipeline", path, "--root", sandbox.root], within: 60)
        XCTAssertEqual(started.exitCode, 0, started.stderr)
        let pid = try XCTUnwrap(pid_t(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        do { try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.event == "run.completed" } } catch {
            _ = try? ProcessControl.signal(pid, SIGKILL)
            throw error
        }
        return pid
    }

    func testDrainWaitsAndReports() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "dr", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 6, agentBody: """
        if [ "$batch" = 3 ]; then echo "never works" >&2; exit 4; fi
        if [ "$batch" = 2 ] && [ ! -e fixed ]; then exit 3; fi
        object_batch $start $end | publish "$out"
        """)
        let pid = try startAndComplete(sandbox, pipeline: path)
        defer { if ProcessControl.isAlive(pid) { _ = try? ProcessControl.signal(pid, SIGKILL) } }
        try sandbox.write("fixed", "")
        let drain = try sandbox.run(["drain", "dr", "--root", sandbox.root], within: 60)
        XCTAssertEqual(drain.exitCode, 2, "one drained batch failed again: \(drain.stdout) \(drain.stderr)")
        XCTAssertTrue(drain.stdout.contains("processed 2 of 2, succeeded 1, failed 1, success rate 50.0%"), drain.stdout)
        XCTAssertTrue(drain.stdout.contains("dr phase p1: 1 succeeded, 1 failed"), drain.stdout)
        XCTAssertTrue(drain.stdout.contains("failed: dr p1/3 failed  last error:"), drain.stdout)
        let reports = sandbox.list("logs/drains")
        XCTAssertEqual(reports.count, 1, "\(reports)")
        let json = try JSON.parse(try sandbox.read("logs/drains/" + reports[0]))
        XCTAssertEqual(json["schema"]?.int, 1)
        XCTAssertEqual(json["succeeded"]?.int, 1)
        XCTAssertEqual(json["results"]?.array?.count, 2)
        let id = String(reports[0].dropLast(".json".count))
        let again = try sandbox.run(["drain", "--report", id, "--root", sandbox.root])
        XCTAssertEqual(again.exitCode, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("succeeded 1, failed 1"), again.stdout)
        XCTAssertEqual(try sandbox.run(["drain", "--root", sandbox.root]).exitCode, 64, "RUN or --all")
        XCTAssertEqual(try sandbox.run(["stop", "--root", sandbox.root]).exitCode, 0)
    }

    /// The circuit breaker opens during a drain (`run.paused circuit_open`): nothing more happens
    /// for the drained batches without a person, so the drain ends there and reports them as not done.
    func testDrainEndsWhenTheRunPauses() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "dp", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1, "concurrency": 1, "circuitBreaker": ["consecutiveFailures": 2]])
        // Batches 1, 3 and 5 always crash; 2 and 4 reset the breaker's count in the first pass.
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 10, agentBody: """
        if [ "$batch" = 1 ] || [ "$batch" = 3 ] || [ "$batch" = 5 ]; then echo "crashed" >&2; exit 4; fi
        object_batch $start $end | publish "$out"
        """)
        let pid = try startAndComplete(sandbox, pipeline: path)
        defer { if ProcessControl.isAlive(pid) { _ = try? ProcessControl.signal(pid, SIGKILL) } }
        // One slot: 1 is re-queued first and crashes, the second crash in a row (5 was the last of the
        // first pass): the circuit opens before 3 and 5 are re-queued.
        let drain = try sandbox.run(["drain", "dp", "--force", "--root", sandbox.root], within: 60)
        XCTAssertEqual(drain.exitCode, 2, "\(drain.stdout) \(drain.stderr)")
        XCTAssertTrue(drain.stdout.contains("processed 1 of 3, succeeded 0, failed 1, success rate 0.0%, not done 2"), drain.stdout)
        XCTAssertTrue(drain.stdout.contains("run dp paused (circuit_open): 2 not done"), drain.stdout)
        let records = try EventLog.read(sandbox.eventLog)
        let start = try XCTUnwrap(records.last { $0.event == "drain.started" })
        let completed = try XCTUnwrap(records.last { $0.event == "drain.completed" })
        XCTAssertEqual(completed.reason, "circuit_open")
        XCTAssertEqual(completed["not_requeued"]?.strings, ["p1/3", "p1/5"])
        // drain.started names the drain: its report is found from the log.
        let id = try XCTUnwrap(start["drain_id"]?.string)
        XCTAssertTrue(drain.stdout.contains("logs/drains/\(id).json"), drain.stdout)
        let json = try JSON.parse(try sandbox.read("logs/drains/\(id).json"))
        XCTAssertEqual(json["finished"], .bool(true))
        XCTAssertEqual(json["notDone"]?.int, 2)
        XCTAssertEqual(json["paused"]?[0]?["reason"]?.string, "circuit_open")
        let again = try sandbox.run(["drain", "--report", id, "--root", sandbox.root])
        XCTAssertTrue(again.stdout.contains("paused (circuit_open)"), again.stdout)
        XCTAssertEqual(try sandbox.run(["stop", "--root", sandbox.root]).exitCode, 0)
    }
}

