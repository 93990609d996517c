import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import WatcherSystem

extension CrashSafety {
    /// Control messages across a crash: a message moved to `control/cur/` must have been (or
    /// must still be) applied; a crash must not lose it.
    @Suite("Recovery: control messages across a SIGKILL")
    struct RecoveryControlTests {
        static let messages = 1000

        /// 1000 `resume` messages (each with its own id) arrive in one burst while the daemon is
        /// stopped; once it has moved 50 of them to `control/cur/` it is SIGKILLed; a new daemon
        /// handles the rest. Every id must be answered by exactly one `control.applied`.
        @Test("control messages moved to cur/ just before a SIGKILL are still applied, once each")
        func controlMessagesSurviveAKill() throws {
            let pipeline = CrashPipeline(run: "ctl", phases: 1, batches: 1, batchSize: 2, concurrency: 1)
            try withCrashHarness("control-kill", pipeline) { h in
                let first = try h.start()
                let log = try CrashLogFollower(h.eventLog)
                try log.wait("run.completed", daemon: first, within: 20) { $0.count(event: "run.completed") > 0 }
                let ids = (1...Self.messages).map { String(format: "msg-%05d", $0) }
                for id in ids {
                    let fd = try FileDescriptor.open(h.control + "/tmp/\(id).json", O_WRONLY | O_CREAT | O_EXCL)
                    try fd.writeAll(#"{"command":"resume","run":"ctl","id":"\#(id)"}"#)
                    try fd.close()
                }
                let cur = try Inotify()
                defer { try? cur.close() }
                _ = try cur.addWatch(h.control + "/cur", mask: [.movedTo, .create])
                try first.signal(SIGSTOP)
                for id in ids { try FileSystem.rename(h.control + "/tmp/\(id).json", h.control + "/new/\(id).json") }
                try first.signal(SIGCONT)
                let deadline = Deadline.seconds(20)
                while h.list(h.control + "/cur").count < 50 {
                    try #require(!deadline.hasPassed, "the daemon did not move 50 messages to cur/ in 20 s")
                    _ = try Poller.wait([cur.fileDescriptor], timeoutMilliseconds: deadline.pollTimeout)
                    _ = try cur.readEvents()
                }
                try h.kill9(first)
                let movedAtKill = h.list(h.control + "/cur").count
                try log.refresh()
                let appliedAtKill = log.count(event: "control.applied")

                let second = try h.start()
                let log2 = try CrashLogFollower(h.eventLog)
                try log2.waitForStart(of: second)
                let new = try Inotify()
                defer { try? new.close() }
                _ = try new.addWatch(h.control + "/new", mask: [.movedFrom, .delete])
                let emptied = Deadline.seconds(60)
                while !h.list(h.control + "/new").isEmpty {
                    try #require(!emptied.hasPassed, "control/new/ not emptied in 60 s")
                    _ = try Poller.wait([new.fileDescriptor], timeoutMilliseconds: emptied.pollTimeout)
                    _ = try new.readEvents()
                }
                try h.barrier(second, log2)
                try h.stop(second)

                var answered: [String: Int] = [:]
                for r in try h.records() where r.event == "control.applied" {
                    if let id = r["id"]?.string, id.hasPrefix("msg-") { answered[id, default: 0] += 1 }
                }
                let lost = ids.filter { answered[$0] == nil }
                let twice = ids.filter { (answered[$0] ?? 0) > 1 }
                print("control messages across a SIGKILL: \(movedAtKill) in cur/ and \(appliedAtKill) applied at the kill; "
                    + "\(lost.count) never applied, \(twice.count) applied twice")
                h.check(h.list(h.control + "/cur").filter { $0.hasPrefix("msg-") }.count == Self.messages,
                        "control/cur does not hold the \(Self.messages) messages once each")
                // A message moves to cur/ only once its answer is durable in the log.
                #expect(lost.count == 0, "\(lost.count) messages moved to cur/ were never applied, e.g. \(lost.prefix(5))")
                #expect(twice.count == 0, "\(twice.count) messages applied twice, e.g. \(twice.prefix(5))")
            }
        }
    }
}
