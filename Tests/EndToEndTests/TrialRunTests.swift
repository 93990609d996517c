import Foundation
import XCTest

/// `run --batches 3-5` / `--phases ID`: only that part runs; the rest stays pending, and a later
/// `run` without the option carries on with it.
final class TrialRunTests: EndToEndTestCase {
    func testTrialOnAPartThenTheRest() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "tr", batchSize: 1, phases: [
            Fixtures.objectPhase("p1", file: "out/p1.json"), Fixtures.objectPhase("p2", file: "out/p2.json"),
        ])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 6, agentBody: "object_batch $start $end | publish \"$out\"")
        let trial = try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root, "--until-done", "--batches", "3-5", "--quiet"])
        XCTAssertEqual(trial.exitCode, 0, trial.stderr)
        let show = try JSON.parse(try sandbox.run(["show", "tr", "--json", "--root", sandbox.root]).stdout)
        let states = (show["batches"]?.array ?? []).map { "\($0["phase"]?.string ?? "")/\($0["batch"]?.int ?? 0)=\($0["state"]?.string ?? "")" }
        XCTAssertEqual(states, ["p1/1=pending", "p1/2=pending", "p1/3=merged", "p1/4=merged", "p1/5=merged", "p1/6=pending",
                                "p2/1=pending", "p2/2=pending", "p2/3=merged", "p2/4=merged", "p2/5=merged", "p2/6=pending"])
        let events = try EventLog.read(sandbox.eventLog)
        XCTAssertFalse(events.contains { $0.event == "run.completed" }, "a trial does not complete the run")

        let phaseOnly = try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root, "--until-done", "--phases", "p1", "--quiet"])
        XCTAssertEqual(phaseOnly.exitCode, 0, phaseOnly.stderr)
        let afterPhase = try JSON.parse(try sandbox.run(["status", "--json", "--root", sandbox.root]).stdout)
        XCTAssertEqual(afterPhase["runs"]?[0]?["phases"]?[0]?["completed"]?.int, 6)
        XCTAssertEqual(afterPhase["runs"]?[0]?["phases"]?[1]?["pending"]?.int, 3, "phase p2's other batches wait")

        let rest = try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root, "--until-done"])
        XCTAssertEqual(rest.exitCode, 0, rest.stderr)
        XCTAssertTrue(rest.stdout.contains("progress tr phase p2: 6/6 (100.0%)"),
                      "a restarted run's progress counts what earlier lives merged: \(rest.stdout)")
        let all = try EventLog.read(sandbox.eventLog)
        XCTAssertTrue(all.contains { $0.event == "run.completed" })
        let spawnsOfBatch3 = all.filter { $0.isTransition(phase: "p1", batch: 3, to: "spawning") }.count
        XCTAssertEqual(spawnsOfBatch3, 1, "what the trial merged is not done again")
        let bad = try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root, "--phases", "nope"])
        XCTAssertEqual(bad.exitCode, 64)
        XCTAssertTrue(bad.stderr.contains("has no phase nope"), bad.stderr)
    }
}
