import Foundation
import Glibc
import WatcherSystem
import XCTest

/// `drain` waits until the re-queued batches ended, prints the summary and writes it to
/// `logs/drains/<id>.json`; `drain --report ID` prints it again.
final class DrainReportTests: EndToEndTestCase {
    func testDrainWaitsAndReports() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "dr", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 6, agentBody: """
        if [ "$batch" = 3 ]; then echo "never works" >&2; exit 4; fi
        if [ "$batch" = 2 ] && [ ! -e fixed ]; then exit 3; fi
        object_batch $start $end | publish "$out"
        """)
        let started = try sandbox.run(["run", "--daemon", "--pipeline", path, "--root", sandbox.root], within: 60)
        XCTAssertEqual(started.exitCode, 0, started.stderr)
        let pid = try XCTUnwrap(pid_t(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { if ProcessControl.isAlive(pid) { _ = try? ProcessControl.signal(pid, SIGKILL) } }
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.event == "run.completed" }
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
}
