import Foundation
import Glibc
import WatcherSystem
import XCTest

/// Exit codes people script against: `run --until-done` (0 all merged, 2 some failed),
/// `status --check` / `list --check`, and the JSON documents of `status` and `list`.
final class ExitCodeTests: EndToEndTestCase {
    func testUntilDoneExits0WhenEveryBatchMerged() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "good", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 6, agentBody: "object_batch $start $end | publish \"$out\"")
        let r = try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root, "--until-done"], within: 60)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("pending → spawning") == false, "only transitions worth attention are printed")
        XCTAssertTrue(r.stdout.contains("→ merged"), "the merges are printed: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("progress good phase p1: 3/3 (100.0%)"), r.stdout)
        let status = try sandbox.run(["status", "--check", "--root", sandbox.root])
        XCTAssertEqual(status.exitCode, 0, "complete, nothing failed: \(status.stdout)")
        XCTAssertTrue(status.stdout.contains("daemon: not running"), status.stdout)
        let list = try sandbox.run(["list", "--check", "--root", sandbox.root])
        XCTAssertEqual(list.exitCode, 0, list.stdout)

        let json = try JSON.parse(try sandbox.run(["status", "--json", "--root", sandbox.root]).stdout)
        XCTAssertEqual(json["schema"]?.int, 1)
        XCTAssertEqual(json["daemon"]?["running"], .bool(false))
        let run = try XCTUnwrap(json["runs"]?[0])
        XCTAssertEqual(run["run"]?.string, "good")
        XCTAssertEqual(run["completed"], .bool(true))
        XCTAssertEqual(run["phases"]?[0]?["completed"]?.int, 3)
        XCTAssertEqual(run["phases"]?[0]?["pending"]?.int, 0)
        XCTAssertNotNil(run["phases"]?[0]?["meanBatchSeconds"]?.double, "a measured duration")
        XCTAssertEqual(run["estimatedCompletion"], .null, "a complete run has no estimate")
        let listed = try JSON.parse(try sandbox.run(["list", "--json", "--root", sandbox.root]).stdout)
        XCTAssertEqual(listed["runs"]?[0]?["state"]?.string, "completed")
        XCTAssertEqual(listed["runs"]?[0]?["merged"]?.int, 3)
    }

    /// Once the work is done, `run --until-done` does not wait out `killGraceSeconds` for the
    /// process groups of agents that already exited: nothing is left of them, so the stop ends
    /// at once (a bound of behaviour, far below the grace, generous for a loaded machine).
    func testUntilDoneDoesNotWaitOutTheKillGraceForAgentsThatExited() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "quick", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["killGraceSeconds": 20])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: "object_batch $start $end | publish \"$out\"")
        let started = Date()
        let r = try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root, "--until-done", "--quiet"], within: 60)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertLessThan(elapsed, 10, "exits well before the 20 s grace once the work is done")
        let records = try EventLog.read(sandbox.path("logs/events.jsonl"))
        XCTAssertEqual(records.filter { $0.isTransition(phase: "p1", batch: 1, to: "merged") || $0.isTransition(phase: "p1", batch: 2, to: "merged") }.count, 2)
        let stopping = try XCTUnwrap(records.last { $0.event == "watcher.stopping" })
        let stopped = try XCTUnwrap(records.last { $0.event == "watcher.stopped" })
        XCTAssertEqual(stopping.reason, "completed")
        XCTAssertLessThan(stopped.time - stopping.time, 10, "\(stopping)\n\(stopped)")
    }

    func testUntilDoneExits2WhenABatchFailed() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "bad", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 6, agentBody: """
        if [ "$batch" = 2 ]; then echo "no luck" >&2; exit 3; fi
        object_batch $start $end | publish "$out"
        """)
        let r = try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root, "--until-done", "--quiet"], within: 60)
        XCTAssertEqual(r.exitCode, 2, r.stderr)
        XCTAssertEqual(r.stdout, "", "--quiet prints nothing")
        XCTAssertEqual(try sandbox.run(["status", "--check", "--root", sandbox.root]).exitCode, 2)
        XCTAssertEqual(try sandbox.run(["list", "--check", "--root", sandbox.root]).exitCode, 2)
        let json = try JSON.parse(try sandbox.run(["status", "--json", "--root", sandbox.root]).stdout)
        let phase = try XCTUnwrap(json["runs"]?[0]?["phases"]?[0])
        XCTAssertEqual(phase["failed"]?.int, 1)
        XCTAssertEqual(phase["completed"]?.int, 2)
        let failed = try XCTUnwrap(phase["failedBatches"]?[0])
        XCTAssertEqual(failed["batch"]?.int, 2)
        XCTAssertEqual(failed["attempts"]?.int, 1)
        XCTAssertNotNil(failed["errors"]?[0]?["reason"]?.string, "the attempt's reason: \(failed)")
    }

    /// Readers never write: `status --watch` beside a daemon start does not stop the start,
    /// and neither takes nor rewrites the lock.
    func testStatusWatchBesideADaemonStart() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "w", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 2, agentBody: "wait_for go || exit 1\nobject_batch $start $end | publish \"$out\"")
        try FileSystem.createDirectory(sandbox.path("logs"))
        let watch = try sandbox.start(["status", "--watch", "--root", sandbox.root])
        // The watcher's first screen says no daemon runs; the lock file was not made by it.
        try waitForOutput(watch, containing: "daemon: not running", deadline: .seconds(30))
        XCTAssertTrue(watch.stdout.contains("daemon: not running"), watch.stdout + watch.stderr)
        XCTAssertFalse(sandbox.exists("logs/watcher.lock"), "status --watch made no lock file")
        let started = try sandbox.run(["run", "--daemon", "--pipeline", path, "--root", sandbox.root], within: 60)
        XCTAssertEqual(started.exitCode, 0, "the start is not stopped by a watching reader: \(started.stderr)")
        let pid = try XCTUnwrap(pid_t(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { if ProcessControl.isAlive(pid) { _ = try? ProcessControl.signal(pid, SIGKILL) } }
        XCTAssertEqual(try sandbox.read("logs/watcher.lock").trimmingCharacters(in: .whitespacesAndNewlines), "\(pid)")
        let status = try sandbox.run(["status", "--root", sandbox.root])
        XCTAssertTrue(status.stdout.contains("daemon: running (pid \(pid))"), status.stdout)
        XCTAssertEqual(try sandbox.read("logs/watcher.lock").trimmingCharacters(in: .whitespacesAndNewlines), "\(pid)",
                       "status left the lock file as the daemon wrote it")
        // Incomplete, daemon up, nothing failed: --check is 0. Stopped: the batch is interrupted, --check is 2.
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.isTransition(phase: "p1", batch: 1, to: "running") }
        XCTAssertEqual(try sandbox.run(["status", "--check", "--root", sandbox.root]).exitCode, 0)
        let exited = try ProcessControl.openPIDFD(pid)
        try ProcessControl.signal(pid, SIGKILL)
        XCTAssertEqual(try Poller.wait([exited.rawValue], timeoutMilliseconds: 30_000), [exited.rawValue], "the daemon is gone")
        let after = try sandbox.run(["status", "--check", "--root", sandbox.root])
        XCTAssertEqual(after.exitCode, 2, "daemon down, run incomplete: \(after.stdout)")
        XCTAssertTrue(after.stdout.hasPrefix("daemon: not running"), after.stdout)
        XCTAssertFalse(after.stdout.contains("ETA "), after.stdout)
        XCTAssertTrue(after.stdout.contains("remaining -"), "no estimate without a daemon: \(after.stdout)")
        let json = try JSON.parse(try sandbox.run(["status", "--json", "--root", sandbox.root]).stdout)
        XCTAssertEqual(json["runs"]?[0]?["phases"]?[0]?["interrupted"]?.int, 1)
        XCTAssertEqual(json["runs"]?[0]?["phases"]?[0]?["running"]?.int, 0)
        try watch.stop()
    }
}

/// `show --json`, `messages --json` and `check --json`: one document each, schema 1.
final class JSONOutputTests: EndToEndTestCase {
    func testShowMessagesAndCheckJSON() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "js", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: """
        if [ "$batch" = 2 ]; then echo "broken agent" >&2; exit 3; fi
        object_batch $start $end | publish "$out"
        """)
        let check = try JSON.parse(try sandbox.run(["check", "--json", path]).stdout)
        XCTAssertEqual(check["schema"]?.int, 1)
        XCTAssertEqual(check["ok"], .bool(true))
        XCTAssertEqual(check["specs"]?[0]?["run"]?.string, "js")
        XCTAssertEqual(check["specs"]?[0]?["batches"]?.int, 2)
        let badCheck = try sandbox.run(["check", "--json", sandbox.path("nowhere.json")])
        XCTAssertEqual(badCheck.exitCode, 1)
        XCTAssertEqual(try JSON.parse(badCheck.stdout)["ok"], .bool(false))

        XCTAssertEqual(try sandbox.run(["run", "--pipeline", path, "--root", sandbox.root, "--until-done", "--quiet"]).exitCode, 2)
        let all = try JSON.parse(try sandbox.run(["show", "js", "--json", "--root", sandbox.root]).stdout)
        XCTAssertEqual(all["kind"]?.string, "batches")
        XCTAssertEqual(all["batches"]?.array?.map { $0["state"]?.string ?? "?" }, ["merged", "failed"])
        let one = try JSON.parse(try sandbox.run(["show", "js", "p1", "2", "--json", "--root", sandbox.root]).stdout)
        XCTAssertEqual(one["state"]?.string, "failed")
        XCTAssertEqual(one["attemptDetails"]?[0]?["agentLogTail"]?.array?.contains(.string("broken agent")), true, "\(one)")

        _ = try sandbox.run(["send", "--root", sandbox.root, "--to", "carol", "--type", "query", "--id", "q-1", "--body", "{\"q\":1}"])
        let messages = try JSON.parse(try sandbox.run(["messages", "--json", "--root", sandbox.root]).stdout)
        XCTAssertEqual(messages["threads"]?[0]?["messages"]?[0]?["id"]?.string, "q-1")
        XCTAssertEqual(messages["threads"]?[0]?["messages"]?[0]?["body"]?["q"]?.int, 1)

        // The dashboard's JSON API answers with the same shapes.
        let d = try DashboardProcess.start(sandbox)
        XCTAssertEqual(try JSON.parse(try d.request("GET", "/api/batch/js/p1/2").body), one, "/api/batch is show --json")
        XCTAssertEqual(try JSON.parse(try d.request("GET", "/api/messages").body), messages, "/api/messages is messages --json")
        try d.child.stop()
    }
}
