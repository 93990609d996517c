import Foundation
import Glibc
import WatcherSystem
import XCTest

/// The operating commands (issue 4) against a daemon started with `run --daemon`, and agent
/// adoption across a restart.
final class OperateTests: EndToEndTestCase {
    /// A daemon in the background whose agents wait for a "go" file before they publish, so the
    /// test decides when batches finish.
    func testDaemonAndEveryControlCommandAgainstIt() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "op", batchSize: 2, phases: [Fixtures.objectPhase("1", file: "out/1.json")],
                                 overrides: ["concurrency": 1, "maxAttempts": 1])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 8, agentBody: """
        if [ "$batch" = 2 ]; then exit 3; fi
        wait_for go-$batch || exit 1
        object_batch $start $end | publish "$out"
        """)

        // run --daemon returns once the daemon is watching, prints the pid; a second one refuses.
        let started = try sandbox.run(["run", "--daemon", "--pipeline", path, "--root", sandbox.root], within: 60)
        XCTAssertEqual(started.exitCode, 0, started.stderr)
        let pid = try XCTUnwrap(pid_t(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), started.stdout)
        defer { if ProcessControl.isAlive(pid) { _ = try? ProcessControl.signal(pid, SIGKILL) } } // cleanup after a failure only
        XCTAssertTrue(ProcessControl.isAlive(pid))
        XCTAssertEqual(try sandbox.read("logs/watcher.pid").trimmingCharacters(in: .whitespacesAndNewlines), "\(pid)")
        let again = try sandbox.run(["run", "--daemon", "--pipeline", path, "--root", sandbox.root], within: 30)
        XCTAssertEqual(again.exitCode, 1)
        XCTAssertTrue(again.stderr.contains("already running"), again.stderr)

        // pause: batch 1 runs (concurrency 1); nothing else starts until resume.
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.isTransition(phase: "1", batch: 1, to: "running") }
        let pause = try sandbox.run(["pause", "op", "--root", sandbox.root])
        XCTAssertEqual(pause.exitCode, 0, pause.stderr)
        XCTAssertTrue(pause.stdout.contains("applied"), pause.stdout)
        try sandbox.write("go-1", "")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.isTransition(phase: "1", batch: 1, to: "merged") }
        XCTAssertFalse(try EventLog.read(sandbox.eventLog).contains { $0.isTransition(phase: "1", batch: 2, to: "spawning") },
                       "no agent starts while paused")
        XCTAssertEqual(try sandbox.run(["resume", "op", "--root", sandbox.root]).exitCode, 0)

        // Batch 2's agent fails at once (maxAttempts 1): failed. retry re-queues it, skip gives up on it.
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.isTransition(phase: "1", batch: 2, to: "failed") }
        let dry = try sandbox.run(["drain", "op", "--dry-run", "--root", sandbox.root])
        XCTAssertEqual(dry.exitCode, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("1. phase 1 batch 2"), dry.stdout)
        let skip = try sandbox.run(["skip", "op", "1", "2", "--root", sandbox.root])
        XCTAssertEqual(skip.exitCode, 0, skip.stderr)
        let skipAgain = try sandbox.run(["skip", "op", "1", "2", "--root", sandbox.root])
        XCTAssertEqual(skipAgain.exitCode, 1, "a skipped batch cannot be skipped again: \(skipAgain.stdout)")
        XCTAssertTrue(skipAgain.stderr.contains("rejected"), skipAgain.stderr)

        // cancel batch 3 while its agent waits: its process group is gone afterwards.
        let running = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) {
            $0.isTransition(phase: "1", batch: 3, to: "running")
        }
        let agent = try XCTUnwrap(running.pid)
        let cancel = try sandbox.run(["cancel", "op", "1", "3", "--root", sandbox.root])
        XCTAssertEqual(cancel.exitCode, 0, cancel.stderr)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.isEvent("agent.exited", phase: "1", batch: 3) }
        try waitForGroupGone(agent)

        // list and show read the log.
        let list = try sandbox.run(["list", "--root", sandbox.root])
        XCTAssertTrue(list.stdout.hasPrefix("op  running"), list.stdout)
        let show = try sandbox.run(["show", "op", "1", "3", "--root", sandbox.root])
        XCTAssertTrue(show.stdout.contains("cancelled"), show.stdout)
        XCTAssertTrue(show.stdout.contains("logs/agents/op/1-3-1.log"), show.stdout)

        // Batch 4 finishes; then stop: the daemon is gone, its pid file too, and stopping again says none runs.
        try sandbox.write("go-4", "")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.isEvent("run.completed", run: "op") }
        let stop = try sandbox.run(["stop", "--root", sandbox.root], within: 60)
        XCTAssertEqual(stop.exitCode, 0, stop.stderr)
        XCTAssertTrue(stop.stdout.contains("stopped the daemon (pid \(pid))"), stop.stdout)
        try waitForGroupGone(pid)
        XCTAssertFalse(sandbox.exists("logs/watcher.pid"))
        let none = try sandbox.run(["stop", "--root", sandbox.root])
        XCTAssertEqual(none.exitCode, 1)
        XCTAssertTrue(none.stderr.contains("no daemon is running"), none.stderr)
        let pauseNone = try sandbox.run(["pause", "op", "--root", sandbox.root])
        XCTAssertEqual(pauseNone.exitCode, 1)
        XCTAssertTrue(pauseNone.stderr.contains("no agent-watcher daemon is running"), pauseNone.stderr)

        let states = try EventLog.read(sandbox.eventLog).filter { $0.event == "batch.transition" }
        XCTAssertEqual(states.last { $0.batch == 2 }?.to, "skipped")
        XCTAssertEqual(states.last { $0.batch == 3 }?.to, "cancelled")
        XCTAssertEqual(states.last { $0.batch == 4 }?.to, "merged")
    }

    /// `agentsOnRestart: adopt`: the daemon is SIGKILLed while an agent runs; the next daemon
    /// keeps the agent, sees it exit through its pidfd, and merges its output, on attempt 1.
    func testAgentIsAdoptedAcrossARestart() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "ad", batchSize: 2, phases: [Fixtures.objectPhase("1", file: "out/1.json")],
                                 overrides: ["agentsOnRestart": "adopt"])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 2, agentBody: """
        wait_for go || exit 1
        object_batch $start $end | publish "$out"
        """)
        let first = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        let running = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: first) {
            $0.isTransition(phase: "1", batch: 1, to: "running")
        }
        try first.signal(SIGKILL)
        _ = try first.finish(within: 30)
        let second = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        let adopted = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: second) { $0.event == "agent.adopted" }
        XCTAssertEqual(adopted.pid, running.pid)
        try sandbox.write("go", "")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: second) { $0.isEvent("run.completed", run: "ad") }
        XCTAssertEqual(try second.stop(), .exited(0), second.stderr)
        let transitions = try EventLog.read(sandbox.eventLog).filter { $0.event == "batch.transition" }
        XCTAssertEqual(transitions.map(\.step), ["1:pending>spawning", "1:spawning>running", "1:running>validating",
                                                 "1:validating>merging", "1:merging>merged"])
        XCTAssertTrue(try sandbox.read("out/1.json").contains("\"i2\""))
    }

    /// Waits (on pidfds, never by sleeping) until no live process is left in process group
    /// `pgid`. A zombie counts as gone: whoever is its parent (the daemon, or this test process
    /// when another test made it a subreaper) reaps it in its own time.
    func waitForGroupGone(_ pgid: pid_t, seconds: Double = 20) throws {
        let deadline = Deadline.seconds(seconds)
        while let member = try liveMembers(of: pgid).first, !deadline.hasPassed {
            guard let fd = try? ProcessControl.openPIDFD(member) else { continue } // raced with its exit
            _ = try Poller.wait([fd.rawValue], timeoutMilliseconds: deadline.pollTimeout)
        }
        XCTAssertEqual(try liveMembers(of: pgid), [], "process group \(pgid) has no live process left")
    }

    func liveMembers(of pgid: pid_t) throws -> [pid_t] {
        try ProcessControl.processes(inGroup: pgid).filter { pid in
            guard let stat = try? FileSystem.readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: 0x29),
                  close + 2 < stat.count else { return false } // gone meanwhile
            return stat[close + 2] != UInt8(ascii: "Z")
        }
    }

    /// `cancel RUN` cancels a batch and the one waiting for it; `retry` of the first brings both back.
    func testRetryOfACancelledBatchBringsBackItsCancelledDependants() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "rc", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json"),
                                                                  Fixtures.objectPhase("p2", file: "out/p2.json")],
                                 overrides: ["concurrency": 1])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: """
        if [ "$phase" = p1 ] && [ "$batch" = 2 ]; then wait_for go || exit 1; fi
        object_batch $start $end | publish "$out"
        """)
        let started = try sandbox.run(["run", "--daemon", "--pipeline", path, "--root", sandbox.root], within: 60)
        XCTAssertEqual(started.exitCode, 0, started.stderr)
        let pid = try XCTUnwrap(pid_t(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { if ProcessControl.isAlive(pid) { _ = try? ProcessControl.signal(pid, SIGKILL) } }
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.isTransition(phase: "p1", batch: 2, to: "running") }
        let cancel = try sandbox.run(["cancel", "rc", "--root", sandbox.root])
        XCTAssertEqual(cancel.exitCode, 0, cancel.stderr)
        let dependant = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.isTransition(phase: "p2", batch: 2, to: "cancelled") }
        XCTAssertEqual(dependant.reason, "dependency_cancelled")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.isEvent("agent.exited", phase: "p1", batch: 2) }
        try sandbox.write("go", "")
        let retry = try sandbox.run(["retry", "rc", "p1", "2", "--root", sandbox.root])
        XCTAssertEqual(retry.exitCode, 0, retry.stderr)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20)) { $0.isTransition(phase: "p2", batch: 2, to: "pending") }
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30)) { $0.isTransition(phase: "p2", batch: 2, to: "merged") }
        XCTAssertEqual(try sandbox.run(["stop", "--root", sandbox.root]).exitCode, 0)
    }
}

