import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem
import XCTest

/// Files a person drops into the mailbox while the daemon runs. The agents here do nothing
/// (exit 0 at once, one attempt each), so every batch has failed with `no_output` and the
/// person supplies the outputs by hand.
final class DroppedFileTests: EndToEndTestCase {
    let outbox = "mailbox/d/outbox"
    let rejected = "mailbox/d/rejected"

    func startIdleRun(_ sandbox: Sandbox) throws -> ChildProcess {
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1, "maxFileBytes": 2048])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 7, agentBody: "exit 0")
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        let done = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "d")
        }
        XCTAssertEqual(done["failed"]?.int, 7)
        return daemon
    }

    func batchText(_ k: Int) -> String { "{\"results\": {\"i\(k)\": \(Fixtures.item(k))}}\n" }

    func testDroppedFilesAreMergedRejectedOrAppliedAndNeverLost() throws {
        let sandbox = try makeSandbox()
        let daemon = try startIdleRun(sandbox)
        let log = sandbox.eventLog
        /// The `file.rejected` record of the file dropped as `name`.
        func rejection(of name: String) throws -> LogRecord {
            try waitForEvent(log: log, deadline: .seconds(30), daemon: daemon, "file.rejected of \(name)") {
                $0.event == "file.rejected" && ($0["from"]?.string ?? $0["path"]?.string ?? "").hasSuffix("/" + name)
            }
        }
        /// The `file.rejected` record of the batch output dropped as `name`, once the failed
        /// attempt has moved it to rejected/ (`file.archived`, which comes after).
        func archivedRejection(of name: String) throws -> LogRecord {
            let refused = try rejection(of: name)
            try waitForEvent(log: log, deadline: .seconds(30), daemon: daemon, "file.archived of \(name)") {
                $0.event == "file.archived" && $0.reason == "rejected" && ($0["from"]?.string ?? "").hasSuffix("/" + name)
            }
            return refused
        }

        // A FIFO renamed into the outbox: refused without being opened (a read would block).
        XCTAssertEqual(mkfifo(sandbox.path("\(outbox)/tmp/fifo"), 0o644), 0)
        try FileSystem.rename(sandbox.path("\(outbox)/tmp/fifo"), sandbox.path("\(outbox)/p1_batch_3.json"))
        let fifo = try archivedRejection(of: "p1_batch_3.json")
        XCTAssertTrue(fifo.reason?.contains("FIFO") ?? false, fifo.line)
        XCTAssertEqual(sandbox.kind("\(rejected)/p1_batch_3.attempt-2.json"), .fifo, "moved aside, not deleted")
        XCTAssertFalse(sandbox.exists("\(outbox)/p1_batch_3.json"))

        // A symbolic link to a valid batch: refused, never followed.
        try sandbox.write("elsewhere/batch-2.json", batchText(2))
        XCTAssertEqual(symlink(sandbox.path("elsewhere/batch-2.json"), sandbox.path("\(outbox)/tmp/link")), 0)
        try FileSystem.rename(sandbox.path("\(outbox)/tmp/link"), sandbox.path("\(outbox)/p1_batch_2.json"))
        let link = try archivedRejection(of: "p1_batch_2.json")
        XCTAssertTrue(link.reason?.contains("symbolic link") ?? false, link.line)
        XCTAssertEqual(sandbox.kind("\(rejected)/p1_batch_2.attempt-2.json"), .symlink)
        XCTAssertEqual(try FileSystem.readLink(sandbox.path("\(rejected)/p1_batch_2.attempt-2.json")),
                       sandbox.path("elsewhere/batch-2.json"))
        XCTAssertEqual(try sandbox.read("elsewhere/batch-2.json"), batchText(2), "the link's target is untouched")

        // Over maxFileBytes (otherwise valid): refused unread.
        let big = "{\"results\": {\"i4\": {\"id\": \"i4\", \"pad\": \"" + String(repeating: "x", count: 3000) + "\"}}}\n"
        try sandbox.publish("\(outbox)/p1_batch_4.json", big, staging: "\(outbox)/tmp")
        let tooBig = try archivedRejection(of: "p1_batch_4.json")
        XCTAssertTrue(tooBig.reason?.contains("2048") ?? false, tooBig.line)
        XCTAssertEqual(try sandbox.read("\(rejected)/p1_batch_4.attempt-2.json"), big)

        // Names that are not batch outputs: moved to rejected/ with a note.
        try sandbox.publish("\(outbox)/notes.json", "{}", staging: "\(outbox)/tmp")
        let notes = try rejection(of: "notes.json")
        XCTAssertEqual(notes.run, "d")
        XCTAssertTrue(notes.reason?.contains("not a batch output name") ?? false, notes.line)
        XCTAssertEqual(try sandbox.read("\(rejected)/notes.json"), "{}")
        XCTAssertTrue(try sandbox.read("\(rejected)/notes.json.error").contains("not a batch output name"))
        try sandbox.publish("\(outbox)/p1_batch_99.json", batchText(1), staging: "\(outbox)/tmp")
        let noSuchBatch = try rejection(of: "p1_batch_99.json")
        XCTAssertTrue(noSuchBatch.reason?.contains("no such batch") ?? false, noSuchBatch.line)
        XCTAssertTrue(sandbox.exists("\(rejected)/p1_batch_99.json"))
        XCTAssertTrue(sandbox.exists("\(rejected)/p1_batch_99.json.error"))

        // A valid batch renamed in: merged (the daemon was not blocked by anything above).
        try sandbox.publish("\(outbox)/p1_batch_1.json", batchText(1), staging: "\(outbox)/tmp")
        try waitForEvent(log: log, deadline: .seconds(30), daemon: daemon, "p1/1 merged") {
            $0.isTransition(phase: "p1", batch: 1, to: "merged")
        }
        // And one written in place (open, write, close).
        try sandbox.write("\(outbox)/p1_batch_5.json", batchText(5))
        try waitForEvent(log: log, deadline: .seconds(30), daemon: daemon, "p1/5 merged") {
            $0.isTransition(phase: "p1", batch: 5, to: "merged")
        }

        // A control message dropped straight into control/new/, and a bad one.
        try sandbox.write("mailbox/control/new/pause.json", #"{"command": "pause", "run": "d", "id": "e2e1"}"#)
        let applied = try waitForEvent(log: log, deadline: .seconds(30), daemon: daemon, "control.applied") {
            $0.event == "control.applied"
        }
        XCTAssertEqual(applied.run, "d")
        XCTAssertEqual(applied["command"]?.string, "pause")
        XCTAssertEqual(applied["id"]?.string, "e2e1")
        // The file moves to cur/ only once its answer is durable: right after the record, not with it.
        try waitForFile(sandbox.path("mailbox/control/cur/pause.json"), deadline: .seconds(30))
        XCTAssertEqual(sandbox.list("mailbox/control/cur"), ["pause.json"])
        XCTAssertEqual(sandbox.list("mailbox/control/new"), [])
        try sandbox.write("mailbox/control/new/bad.json", #"{"command": "explode", "run": "d"}"#)
        let badControl = try rejection(of: "bad.json")
        XCTAssertTrue(badControl.reason?.contains("explode") ?? false, badControl.line)
        XCTAssertTrue(sandbox.exists("mailbox/control/rejected/bad.json"))
        XCTAssertTrue(sandbox.exists("mailbox/control/rejected/bad.json.error"))

        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        try assertWellFormedLog(log)
        let records = try EventLog.read(log)
        let states = finalStates(records)
        XCTAssertEqual(states["p1/1"], "merged")
        XCTAssertEqual(states["p1/5"], "merged")
        for b in [2, 3, 4, 6, 7] { XCTAssertEqual(states["p1/\(b)"], "failed", "p1/\(b)") }
        let dropped = records.first { $0.isTransition(phase: "p1", batch: 1, to: "validating") }
        XCTAssertEqual(dropped?.reason, "output_dropped")
        let main = try containerItems(sandbox.read("out/p1.json"), key: "results", idField: nil)
        XCTAssertEqual(main.map(\.id), ["i1", "i5"])
        XCTAssertEqual(main.map(\.value), [Fixtures.item(1), Fixtures.item(5)])
        XCTAssertEqual(sandbox.list(outbox), ["tmp"], "nothing is left in the outbox")
        XCTAssertEqual(sandbox.list("\(outbox)/tmp"), [])
        let status = try sandbox.run(["status", "--root", sandbox.root])
        XCTAssertTrue(status.stdout.contains("p1"), status.stdout)
    }

    /// A symbolic link and a FIFO made right in the outbox (`ln -s`, `mkfifo`) produce no
    /// close or rename event, only IN_CREATE: they too must be moved aside and logged.
    func testSymlinkAndFIFOCreatedInPlaceInTheOutboxAreRejected() throws {
        let sandbox = try makeSandbox()
        let daemon = try startIdleRun(sandbox)
        try sandbox.write("elsewhere/batch-6.json", batchText(6))
        XCTAssertEqual(symlink(sandbox.path("elsewhere/batch-6.json"), sandbox.path("\(outbox)/p1_batch_6.json")), 0)
        XCTAssertEqual(mkfifo(sandbox.path("\(outbox)/p1_batch_7.json"), 0o644), 0)
        for b in [6, 7] {
            try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "file.rejected of p1/\(b) made in place") {
                $0.event == "file.rejected" && $0.batch == b
            }
            try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "p1/\(b) moved to rejected/") {
                $0.event == "file.archived" && $0.batch == b && $0.reason == "rejected"
            }
        }
        XCTAssertEqual(sandbox.list(outbox), ["tmp"])
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }
}
