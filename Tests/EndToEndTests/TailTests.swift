import Foundation
import XCTest

/// `tail -n N`, the filters, and `tail -f` starting from the last 10 records.
final class TailTests: EndToEndTestCase {
    func testLastRecordsFiltersAndFollow() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "tl", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: "object_batch $start $end | publish \"$out\"")
        XCTAssertEqual(try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root, "--until-done", "--quiet"]).exitCode, 0)
        let log = try sandbox.read("logs/events.jsonl").split(separator: "\n").map(String.init)
        XCTAssertGreaterThan(log.count, 12)

        let whole = try sandbox.run(["tail", "--json", "--root", sandbox.root])
        XCTAssertEqual(whole.stdout.split(separator: "\n").map(String.init), log, "the whole log by default")
        let last3 = try sandbox.run(["tail", "-n", "3", "--json", "--root", sandbox.root])
        XCTAssertEqual(last3.stdout.split(separator: "\n").map(String.init), Array(log.suffix(3)))
        let zero = try sandbox.run(["tail", "-n0", "--root", sandbox.root])
        XCTAssertEqual(zero.stdout, "")

        let merged = try sandbox.run(["tail", "--event", "batch", "--batch", "p1/2", "--json", "--root", sandbox.root])
        let lines = merged.stdout.split(separator: "\n").map(String.init)
        XCTAssertFalse(lines.isEmpty)
        XCTAssertTrue(lines.allSatisfy { $0.contains("\"batch\":2") && $0.contains("\"event\":\"batch.") }, merged.stdout)
        let lastOfBatch = try sandbox.run(["tail", "-n", "1", "--batch", "p1/2", "--json", "--root", sandbox.root])
        XCTAssertEqual(lastOfBatch.stdout.split(separator: "\n").map(String.init), log.filter { $0.contains("\"phase\":\"p1\",\"batch\":2,") }.suffix(1))
        XCTAssertEqual(try sandbox.run(["tail", "--since", "2999-01-01", "--root", sandbox.root]).stdout, "")
        XCTAssertEqual(try sandbox.run(["tail", "--batch", "nope", "--root", sandbox.root]).exitCode, 64)

        let follow = try sandbox.start(["tail", "-f", "--json", "--root", sandbox.root])
        try waitForOutput(follow, containing: log[log.count - 1], deadline: .seconds(30))
        XCTAssertEqual(follow.stdout.split(separator: "\n").map(String.init), Array(log.suffix(10)), "-f starts with the last 10")
        try follow.stop()
    }
}
