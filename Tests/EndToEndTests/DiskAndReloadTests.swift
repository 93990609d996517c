import Foundation
import Glibc
import WatcherSystem
import XCTest

/// A full disk under the daemon, and SIGHUP re-reading the pipeline spec.
final class DiskAndReloadTests: EndToEndTestCase {
    /// The root, the main files and the log live on a 512 KiB tmpfs. With the disk filled, the
    /// next batch cannot be logged: the daemon says so and exits non-zero, and no main file is
    /// left half-written. With space again, a restart recovers and completes the run.
    func testAFullDiskStopsTheDaemonAndTheNextStartRecovers() throws {
        let sandbox = try makeSandbox()
        let disk = sandbox.path("disk")
        try FileSystem.createDirectory(disk)
        guard mount("tmpfs", disk, "tmpfs", 0, "size=512k") == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (\(Errno.current)): the full-disk test needs root")
        }
        defer { umount2(disk, Int32(MNT_DETACH)) }
        let spec = Fixtures.spec(run: "full", batchSize: 2, phases: [Fixtures.objectPhase("1", file: "disk/out/1.json")],
                                 overrides: ["concurrency": 1, "maxAttempts": 5])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 6, agentBody: """
        wait_for go-$batch || exit 1
        object_batch $start $end | publish "$out"
        """)
        let log = disk + "/logs/events.jsonl"
        let first = try sandbox.start(["run", "--pipeline", path, "--root", disk])
        try sandbox.write("go-1", "")
        try waitForEvent(log: log, deadline: .seconds(20), daemon: first) { $0.isTransition(phase: "1", batch: 1, to: "merged") }
        try waitForEvent(log: log, deadline: .seconds(20), daemon: first) { $0.isTransition(phase: "1", batch: 2, to: "running") }

        // Fill the disk to the last byte, then let batch 2 finish: its transitions cannot be logged.
        let filler = try FileDescriptor.open(disk + "/filler", O_WRONLY | O_CREAT | O_TRUNC)
        let block = [UInt8](repeating: 0x20, count: 4096)
        do { while true { try filler.writeAll(block) } } catch let e as SystemError where e.errno == .noSpace {}
        do { while true { try filler.writeAll([0x20]) } } catch let e as SystemError where e.errno == .noSpace {}
        try filler.close()
        try sandbox.write("go-2", "")
        let status = try first.finish(within: 30)
        XCTAssertNotEqual(status, .exited(0), "the daemon must not carry on without its log: \(first.stderr)")
        XCTAssertTrue(first.stderr.contains("No space left on device"), first.stderr)
        let records = try EventLog.read(log)
        XCTAssertFalse(records.contains { $0.reason == "spawn_failed" }, "a full disk is not the agent's failure: \(EventLog.tail(log, 12))")
        let main = try sandbox.read("disk/out/1.json")
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(main.utf8)), "the main file is whole: \(main)")

        // Space again: the next start recovers and completes the run with every item once.
        try FileSystem.unlink(disk + "/filler")
        try sandbox.write("go-3", "")
        let second = try sandbox.start(["run", "--pipeline", path, "--root", disk])
        try waitForEvent(log: log, deadline: .seconds(30), daemon: second) { $0.isEvent("run.completed", run: "full") }
        XCTAssertEqual(try second.stop(), .exited(0), second.stderr)
        let merged = try JSONSerialization.jsonObject(with: Data(try sandbox.read("disk/out/1.json").utf8)) as? [String: Any]
        let results = try XCTUnwrap(merged?["results"] as? [String: Any])
        XCTAssertEqual(Set(results.keys), Set((1...6).map { "i\($0)" }), EventLog.tail(log, 40))
    }

    /// SIGHUP re-reads the spec: a good change is taken (`spec.reloaded`), a broken one is
    /// reported with the file and key (`spec.rejected`) and the old spec kept, and the daemon
    /// goes on merging.
    func testSIGHUPReloadsAGoodSpecAndKeepsTheOldOneOverABrokenOne() throws {
        let sandbox = try makeSandbox()
        var spec = Fixtures.spec(run: "hup", batchSize: 2, phases: [Fixtures.objectPhase("1", file: "out/1.json")],
                                 overrides: ["concurrency": 1])
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: """
        wait_for go-$batch || exit 1
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon) { $0.isTransition(phase: "1", batch: 1, to: "running") }

        spec["timeoutSeconds"] = 30
        _ = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4)
        try daemon.signal(SIGHUP)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon) { $0.event == "spec.reloaded" }

        try sandbox.write(path, #"{"run": "hup", "items": {"file": "items-hup.json"}, "phases": [{"id": "1", "output": {"file": "out/1.json", "strategy": 7}}]}"#)
        try daemon.signal(SIGHUP)
        let rejected = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon) { $0.event == "spec.rejected" }
        XCTAssertTrue(rejected.reason?.contains("phases[0].output.strategy") == true, rejected.line)
        XCTAssertTrue(daemon.stderr.contains("kept the old spec"), daemon.stderr)

        try sandbox.write("go-1", "")
        try sandbox.write("go-2", "")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon) { $0.isEvent("run.completed", run: "hup") }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }
}
