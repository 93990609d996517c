import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import WatcherSystem

extension CrashSafety {
    /// More files at once than inotify queues (`/proc/sys/fs/inotify/max_queued_events`): the
    /// kernel drops events and says so (`IN_Q_OVERFLOW`), and the daemon must find every file
    /// by rescanning, each exactly once.
    @Suite("inotify overflow: a burst past the queue")
    struct RecoveryOverflowTests {
        /// `AW_OVERFLOW_FILES=<n>` changes the size (it is raised to the queue size + 1000 if lower).
        static let defaultFiles = 20_000

        /// 4 agents wait on a FIFO each (opening it for writing and closing it lets one go on). The daemon is stopped (SIGSTOP) so that the burst is
        /// certainly faster than its reading; then N control messages are renamed from
        /// `control/tmp/` into `control/new/`, and the 4 agents are released on the way (they
        /// publish their batch outputs by rename and exit). After SIGCONT every message must end
        /// in `control/cur/` once, with one `control.applied` each, and every batch merged once.
        @Test("20,000 control messages and 4 batch outputs in one burst: overflow, rescan, each handled once")
        func burstPastTheQueue() throws {
            let queue = Int(String(decoding: try FileSystem.readFile("/proc/sys/fs/inotify/max_queued_events"), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 16_384
            let requested = ProcessInfo.processInfo.environment["AW_OVERFLOW_FILES"].flatMap { Int($0) } ?? Self.defaultFiles
            let n = max(requested, queue + 1000)
            let pipeline = CrashPipeline(run: "burst", phases: 1, batches: 4, batchSize: 3, concurrency: 4, maxAttempts: 3,
                                         timeoutSeconds: 300, agentBody: """
                                         echo > "ready-$batch"
                                         cat "gate-$batch" > /dev/null
                                         object_batch "$start" "$end" | publish "$out"
                                         """)
            try withCrashHarness("overflow", pipeline) { h in
                for k in 1...4 { try #require(mkfifo(h.root + "/gate-\(k)", 0o600) == 0, "mkfifo: errno \(errno)") }
                let daemon = try h.start()
                let log = try CrashLogFollower(h.eventLog)
                try log.wait("4 agents running", daemon: daemon, within: 20) {
                    $0.lines.filter { $0.contains("\"to\":\"running\"") }.count == 4
                }
                for k in 1...4 { try waitForFile(h.root + "/ready-\(k)", deadline: .seconds(20)) } // each about to open its gate

                // Stage the messages (control/tmp is not watched).
                let names = (1...n).map { String(format: "burst-%05d.json", $0) }
                for name in names {
                    let fd = try FileDescriptor.open(h.control + "/tmp/" + name, O_WRONLY | O_CREAT | O_EXCL)
                    try fd.writeAll(#"{"command":"resume","run":"burst","id":"\#(name.dropLast(5))"}"#)
                    try fd.close()
                }

                // The burst, with the daemon stopped.
                try daemon.signal(SIGSTOP)
                var continued = false
                defer { if !continued { _ = try? daemon.signal(SIGCONT) } }
                let burstStart = Clock.monotonicNanoseconds()
                for (i, name) in names.enumerated() {
                    try FileSystem.rename(h.control + "/tmp/" + name, h.control + "/new/" + name)
                    if (i + 1) % (n / 4) == n / 8 {
                        let gate = try FileDescriptor.open(h.root + "/gate-\((i + 1) / (n / 4) + 1)", O_WRONLY)
                        try gate.close() // the agent reads EOF and publishes
                    }
                }
                let burstSeconds = Double(Clock.monotonicNanoseconds() - burstStart) / 1e9
                let resumed = Clock.monotonicNanoseconds()
                try daemon.signal(SIGCONT)
                continued = true

                var scanned = 0, applied = 0, merged = 0
                try log.wait("\(n) control.applied and 4 merged batches", daemon: daemon, within: 150) { f in
                    while scanned < f.lines.count {
                        let line = f.lines[scanned]
                        scanned += 1
                        if CrashLogFollower.isEvent(line, "control.applied") { applied += 1 }
                        if line.contains("\"to\":\"merged\"") { merged += 1 }
                    }
                    return applied >= n && merged >= 4
                }
                let processSeconds = Double(Clock.monotonicNanoseconds() - resumed) / 1e9
                try h.stop(daemon)
                print(String(format: "inotify overflow: %d messages (queue %d) renamed in %.2f s; the daemon handled them in %.1f s after SIGCONT",
                             n, queue, burstSeconds, processSeconds))

                let records = try log.records() // the follower's lines end before the stop's records; enough here
                h.check(records.contains { $0.event == "watch.overflow" }, "no watch.overflow record: the burst did not overflow the queue")
                let rescans = records.filter { $0.event == "watch.rescan" }
                h.check(!rescans.isEmpty && rescans.allSatisfy { ($0["files"]?.int ?? 0) > 0 },
                        "no watch.rescan that found files: \(rescans.map(\.line))")
                var appliedIDs: [String: Int] = [:]
                for r in records where r.event == "control.applied" { appliedIDs[r["id"]?.string ?? "?", default: 0] += 1 }
                let twice = appliedIDs.filter { $0.value > 1 }.keys.sorted()
                h.check(appliedIDs.count == n && twice.isEmpty,
                        "\(appliedIDs.count) distinct control.applied ids for \(n) messages; applied twice: \(twice.prefix(10))")
                let cur = h.list(h.control + "/cur")
                h.check(cur == names, "control/cur holds \(cur.count) files, expected the \(n) messages once each; extra: \(Set(cur).subtracting(names).sorted().prefix(10))")
                h.check(h.list(h.control + "/new").isEmpty, "control/new still holds \(h.list(h.control + "/new").count) files")
                h.check(h.list(h.control + "/rejected").isEmpty, "control/rejected holds \(h.list(h.control + "/rejected").prefix(10))")
                h.checkEmpty(try crashInvariantProblems(h), "after the burst")
            }
        }
    }
}
