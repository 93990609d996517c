import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem
import XCTest

/// `agent-watcher run` as a background daemon: one per root, SIGTERM stops it and its agents
/// (their whole process groups), and a restart carries on from the log.
final class LifecycleTests: EndToEndTestCase {
    /// Attempt 1 of each batch hangs: a `sleep 1000` with a grandchild started in the
    /// background (its pid saved in e2e/gc-<batch>.pid). Later attempts publish a valid batch.
    func install(_ sandbox: Sandbox, grandchild: String = "sleep 1000") throws -> String {
        let spec = Fixtures.spec(run: "life", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["timeoutSeconds": 60])
        return try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: """
        if [ ! -e "e2e/hung-$batch" ]; then
          : > "e2e/hung-$batch"
          \(grandchild) &
          echo $! > "e2e/gc-$batch.tmp" && mv "e2e/gc-$batch.tmp" "e2e/gc-$batch.pid"
          sleep 1000
        fi
        object_batch $start $end | publish "$out"
        """)
    }

    /// Starts the daemon and waits until both agents run and have started their grandchildren.
    /// Returns the agents' process groups and the grandchildren's pids.
    func startWithHangingAgents(_ sandbox: Sandbox, spec: String) throws -> (ChildProcess, [pid_t], [pid_t]) {
        let daemon = try sandbox.start(["run", "--pipeline", spec, "--root", sandbox.root])
        var groups: [pid_t] = []
        for b in 1...2 {
            let running = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "p1/\(b) running") {
                $0.isTransition(phase: "p1", batch: b, from: "spawning", to: "running")
            }
            groups.append(try XCTUnwrap(running.pid, running.line))
        }
        var grandchildren: [pid_t] = []
        for b in 1...2 {
            try waitForFile(sandbox.path("e2e/gc-\(b).pid"), deadline: .seconds(30))
            let gc = try XCTUnwrap(pid_t(sandbox.read("e2e/gc-\(b).pid").trimmingCharacters(in: .whitespacesAndNewlines)))
            XCTAssertEqual(ProcessControl.processGroup(of: gc), groups[b - 1], "the grandchild is in its agent's group")
            grandchildren.append(gc)
        }
        return (daemon, groups, grandchildren)
    }

    /// kill(-pgid, 0) fails with ESRCH: nothing is left in the group, not even a zombie.
    func assertGroupsEmpty(_ groups: [pid_t], file: StaticString = #filePath, line: UInt = #line) {
        for g in groups {
            let result = kill(-g, 0)
            let error = errno
            let members = ((try? ProcessControl.processes(inGroup: g)) ?? []).map { pid -> String in
                let stat = (try? FileSystem.readFile("/proc/\(pid)/stat")).map { String(decoding: $0, as: UTF8.self) } ?? ""
                return "\(pid) " + (stat.split(separator: " ").dropFirst().prefix(2).joined(separator: " "))
            }
            XCTAssertTrue(result == -1 && error == ESRCH, "process group \(g) still has processes: \(members)",
                          file: file, line: line)
            if result == 0 { kill(-g, SIGKILL) } // do not leave them behind
        }
    }

    func testStopKillsAgentGroupsAndRestartRetriesTheirBatches() throws {
        let sandbox = try makeSandbox()
        let spec = try install(sandbox)
        let (daemon, groups, grandchildren) = try startWithHangingAgents(sandbox, spec: spec)

        // One daemon per root.
        let second = try sandbox.run(["run", "--pipeline", spec, "--root", sandbox.root], within: 20)
        XCTAssertNotEqual(second.exitCode, 0)
        XCTAssertTrue(second.stderr.contains("already running"), second.stderr)
        XCTAssertFalse(try daemon.hasExited(), "the first daemon still runs")
        XCTAssertEqual(try EventLog.read(sandbox.eventLog).filter { $0.event == "watcher.started" }.count, 1,
                       "the second daemon wrote nothing to the log")
        let status = try sandbox.run(["status", "--root", sandbox.root])
        XCTAssertTrue(status.stdout.contains("daemon: running (pid \(daemon.pid))"), status.stdout)

        // SIGTERM: stopping, stopped, exit 0, and the agents' groups are empty.
        try daemon.signal(SIGTERM)
        let stopping = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "watcher.stopping") {
            $0.event == "watcher.stopping"
        }
        XCTAssertEqual(stopping.reason, "SIGTERM")
        XCTAssertEqual(stopping["agents"]?.int, 2)
        XCTAssertEqual(try daemon.finish(within: 30), .exited(0), daemon.stderr)
        let records = try EventLog.read(sandbox.eventLog)
        let stopped = try XCTUnwrap(records.last)
        XCTAssertEqual(stopped.event, "watcher.stopped")
        XCTAssertGreaterThan(stopped.seq, stopping.seq)
        assertGroupsEmpty(groups)
        for gc in grandchildren { XCTAssertFalse(ProcessControl.isAlive(gc), "grandchild \(gc) is gone") }
        XCTAssertTrue(try sandbox.run(["status", "--root", sandbox.root]).stdout.contains("daemon: not running"))

        // A clean stop uses no attempt: the batches went back to pending (reason stopped) before
        // watcher.stopped, and the restart runs attempt 1 again, with nothing added to its prompt.
        for b in 1...2 {
            let back = try XCTUnwrap(records.last { $0.isTransition(phase: "p1", batch: b, from: "running", to: "pending") },
                                     "p1/\(b) went back to pending at the stop")
            XCTAssertEqual(back.reason, "stopped")
            XCTAssertEqual(back["class"]?.string, "stopped")
            XCTAssertEqual(back.attempt, 1)
            XCTAssertLessThan(back.seq, stopped.seq)
        }
        let again = try sandbox.start(["run", "--pipeline", spec, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: again, "run.completed after the restart") {
            $0.isEvent("run.completed", run: "life")
        }
        XCTAssertEqual(try again.stop(), .exited(0), again.stderr)
        try assertWellFormedLog(sandbox.eventLog)
        let all = try EventLog.read(sandbox.eventLog)
        let restartAt = try XCTUnwrap(all.lastIndex { $0.event == "watcher.started" })
        XCTAssertTrue(all[restartAt...].contains { $0.event == "watcher.recovered" }, "the restart says it recovered")
        for b in 1...2 {
            XCTAssertFalse(all.contains { $0.isTransition(phase: "p1", batch: b, to: "retry_wait") }, "p1/\(b): no attempt failed")
            XCTAssertTrue(all.contains { $0.isTransition(phase: "p1", batch: b, to: "merged", attempt: 1) }, "p1/\(b) merged by attempt 1")
            let prompt = try sandbox.read("logs/agents/life/p1-\(b)-1.prompt.md")
            XCTAssertFalse(prompt.contains("restarted"), "nothing about the stop reaches the prompt")
        }
        XCTAssertEqual(all.filter { $0.event == "run.completed" }.count, 1)
        let main = try containerItems(sandbox.read("out/p1.json"), key: "results", idField: nil)
        XCTAssertEqual(main.map(\.value), (1...4).map(Fixtures.item))
    }

    /// A grandchild that ignores SIGTERM outlives its agent's shell: stopping must still
    /// SIGKILL the group after the grace period, not only wait for the agent itself.
    func testStopKillsGrandchildrenThatIgnoreSIGTERM() throws {
        let sandbox = try makeSandbox()
        let spec = try install(sandbox, grandchild: "sh -c 'trap \"\" TERM; exec sleep 1000'")
        let (daemon, groups, grandchildren) = try startWithHangingAgents(sandbox, spec: spec)
        XCTAssertEqual(try daemon.stop(within: 30), .exited(0), daemon.stderr)
        assertGroupsEmpty(groups)
        for gc in grandchildren { XCTAssertFalse(ProcessControl.isAlive(gc), "grandchild \(gc) is gone") }
    }
}
