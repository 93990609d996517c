import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import WatcherSystem

extension CrashSafety {
    /// What a start finds on disk: files that arrived while no daemon ran, files that arrive
    /// while it starts, and a damaged event log.
    @Suite("Recovery on start: dropped files, torn log tails, corrupt log lines")
    struct RecoveryStartupTests {
        // MARK: Files dropped while down, and while starting

        /// Life 1: batch 1's agent hangs (`sleep`), the run is paused, the daemon is SIGKILLed.
        /// While it is down, batches 1 and 2's outputs and a control message are dropped. Life 2:
        /// right after its `watcher.started` line (before or during its recovery, its scan and
        /// its watches) batches 3-6's outputs and another control message are dropped. The run is
        /// paused, so no agent writes anything: every file is the test's, and each must be
        /// handled exactly once, whether the scan, the watch or both saw it.
        @Test("files dropped while the daemon is down, and while it starts, are each processed once")
        func filesDroppedWhileDownAndWhileStarting() throws {
            let pipeline = CrashPipeline(run: "drop", phases: 1, batches: 6, batchSize: 2, concurrency: 1, maxAttempts: 3,
                                         timeoutSeconds: 120, agentBody: "exec sleep 600")
            try withCrashHarness("dropped-files", pipeline) { h in
                let s = h.sandbox
                func dropOutput(_ k: Int) throws {
                    try s.publish(h.outbox + "/1_batch_\(k).json", crashBatchText(start: 2 * k - 1, end: 2 * k), staging: h.outbox + "/tmp")
                }
                func dropControl(_ name: String) throws {
                    try s.publish(h.control + "/new/\(name)", #"{"command":"pause","run":"drop"}"#, staging: h.control + "/tmp")
                }

                // Life 1.
                let first = try h.start()
                let log = try CrashLogFollower(h.eventLog)
                try log.wait("batch 1 running", daemon: first, within: 20) { try $0.records().contains { $0.isTransition(phase: "1", batch: 1, to: "running") } }
                try dropControl("pause-1.json")
                try log.wait("the pause applied", daemon: first, within: 20) { $0.count(event: "control.applied") == 1 }
                let oldAgent = try #require(try log.records().first { $0.isTransition(phase: "1", batch: 1, to: "running") }?.pid)
                try h.kill9(first)
                h.check(CrashProcs.info(oldAgent).map { !$0.isZombie } ?? false, "the hanging agent \(oldAgent) should outlive the SIGKILLed daemon")

                // While down.
                try dropOutput(1)
                try dropOutput(2)
                try dropControl("pause-2-while-down.json")

                // Life 2: drop the rest the moment it has logged watcher.started.
                let second = try h.start()
                let log2 = try CrashLogFollower(h.eventLog)
                try log2.waitForStart(of: second)
                for k in 3...6 { try dropOutput(k) }
                try dropControl("pause-3-while-starting.json")
                // The run can complete before the daemon has even seen the last control message
                // (the test may be descheduled between its drops), and a SIGTERM read in the same
                // wake-up as that file's event stops the daemon before it is answered (it stays
                // in new/ for the next start): wait for its answer too, not only for the run.
                try log2.wait("run.completed and the third control.applied", daemon: second, within: 30) {
                    $0.count(event: "run.completed") > 0 && $0.count(event: "control.applied") == 3
                }
                try h.stop(second) // the round that logs run.completed archives its batches after that line

                let records = try h.records()
                let recovered = records.first { $0.event == "watcher.recovered" }
                h.check((recovered?["killed_agents"]?.strings ?? []).contains { $0.hasPrefix("\(oldAgent)/") },
                        "the old agent \(oldAgent) is not in killed_agents: \(recovered?.line ?? "no watcher.recovered")")
                CrashOrphans.reap()
                h.check(CrashProcs.isGroupGone(oldAgent), "the old agent's group \(oldAgent) is not empty: \(CrashProcs.members(ofGroup: oldAgent))")

                h.checkEmpty(try crashInvariantProblems(h), "dropped files")
                let spawnedInLife2 = records.drop(while: { !($0.event == "watcher.started" && $0.pid == second.pid) })
                    .filter { $0.event == "batch.transition" && $0.to == "spawning" }
                h.check(spawnedInLife2.isEmpty, "a paused run spawned agents: \(spawnedInLife2)")
                h.check(!records.contains { $0.event == "file.rejected" || $0.reason == "duplicate_of_merged" },
                        "a dropped file was handled twice or refused: \(records.filter { $0.event == "file.rejected" || $0.reason == "duplicate_of_merged" })")
                let controls = ["pause-1.json", "pause-2-while-down.json", "pause-3-while-starting.json"]
                h.check(h.list(h.control + "/cur") == controls, "control/cur holds \(h.list(h.control + "/cur")), expected \(controls) once each")
                h.check(h.list(h.control + "/new").isEmpty, "control/new still holds \(h.list(h.control + "/new"))")
                h.check(records.filter { $0.event == "control.applied" }.count == 3,
                        "\(records.filter { $0.event == "control.applied" }.count) control.applied records, expected 3")
            }
        }

        // MARK: Leftovers of interrupted atomic replaces

        /// A crash between writing an atomic replace's temp file and renaming it leaves
        /// `.<name>.tmp-<tag>-<pid>-<n>` behind, wherever the daemon replaces files, `<tag>` the
        /// random tag its life logged in `watcher.started`. The next start removes them and names
        /// them in `watcher.recovered`; nothing else is touched, however much it looks like a temp.
        @Test("stale temp files of interrupted atomic replaces are removed at start and reported")
        func staleTempsRemoved() throws {
            try withCrashHarness("stale-temps", CrashPipeline.publishing) { h in
                try h.runToCompletion()
                let tag = try #require(h.records().last { $0.event == "watcher.started" }?["temp_tag"]?.string)
                let stale = ["out/.phase1.json.tmp-\(tag)-4242-1", "mailbox/crash/accepted/.1_batch_1.json.sha256.tmp-\(tag)-4242-2",
                             "mailbox/crash/rejected/.1_batch_2.attempt-1.errors.json.tmp-\(tag)-4242-3",
                             "logs/agents/crash/.1-1-1.prompt.md.tmp-\(tag)-4242-4", "logs/.watcher.pid.tmp-\(tag)-4242-5",
                             "logs/.events.jsonl.broken-2026.tmp-\(tag)-4242-6", "mailbox/control/rejected/.x.json.error.tmp-\(tag)-4242-7"]
                let kept = ["out/.phase1.json.tmp-notmine", "mailbox/control/tmp/.m.json.tmp-\(tag)-4242-8", // not a temp name; a CLI's staging
                            "out/.phase1.json.tmp-4242-1", "mailbox/crash/rejected/.x.tmp-0000000000000000-1-1"] // look-alikes of no logged life
                for path in stale + kept { try h.sandbox.write(path, "partial") }
                let daemon = try h.start()
                let log = try CrashLogFollower(h.eventLog)
                let startLine = try log.waitForStart(of: daemon)
                try log.wait("watcher.recovered", daemon: daemon, within: 20) { $0.count(event: "watcher.recovered", from: startLine) > 0 }
                try h.stop(daemon)
                let recovered = try h.records().dropFirst(startLine).first { $0.event == "watcher.recovered" }
                let reported = Set(recovered?["stale_temps"]?.strings ?? [])
                h.check(reported == Set(stale.map { h.root + "/" + $0 }),
                        "stale_temps \(reported.sorted()), expected \(stale)")
                for path in stale { h.check(!h.sandbox.exists(path), "\(path) is still there") }
                for path in kept { h.check(h.sandbox.exists(path), "\(path) was removed") }
                h.checkEmpty(try crashInvariantProblems(h), "after removing stale temps")
            }
        }

        // MARK: Checksums beside accepted files

        /// `accepted/<name>.sha256` is written without an fsync of its own (the checksum is in
        /// the batch's `merged` record), so a power cut can leave it missing or short. The next
        /// start writes each such one again from the log; a whole one, and one beside a file that
        /// is not what its batch merged, are left as they are.
        @Test("a missing or torn .sha256 beside an accepted file is written again from the log at start")
        func acceptedChecksumsRepaired() throws {
            try withCrashHarness("sha256-repair", CrashPipeline.publishing) { h in
                try h.runToCompletion()
                let accepted = "mailbox/crash/accepted"
                let whole = try h.sandbox.read(accepted + "/1_batch_1.json.sha256")
                let torn2 = try h.sandbox.read(accepted + "/1_batch_2.json.sha256")
                let merged = try h.records().filter { $0.event == "batch.transition" && $0.phase == "1" && $0.to == "merged" }
                h.check(merged.count == 4, "\(merged.count) merges of phase 1, expected 4")
                try FileSystem.unlink(h.sandbox.path(accepted + "/1_batch_2.json.sha256"))  // missing
                try h.sandbox.write(accepted + "/1_batch_3.json.sha256", "")  // empty (the name reached the disk, not the bytes)
                try h.sandbox.write(accepted + "/1_batch_4.json.sha256", String(torn2.prefix(10)))  // short
                try h.sandbox.write(accepted + "/2_batch_1.json", "{}") // not what batch 2/1 merged
                try FileSystem.unlink(h.sandbox.path(accepted + "/2_batch_1.json.sha256"))
                let daemon = try h.start()
                let log = try CrashLogFollower(h.eventLog)
                let startLine = try log.waitForStart(of: daemon)
                try log.wait("watcher.recovered", daemon: daemon, within: 20) { $0.count(event: "watcher.recovered", from: startLine) > 0 }
                try h.stop(daemon)
                h.check(try h.sandbox.read(accepted + "/1_batch_1.json.sha256") == whole, "a whole .sha256 was changed")
                for k in 2...4 {
                    let checksum = try #require(merged.first { $0.batch == k }?["checksum"]?.string)
                    let line = try h.sandbox.read(accepted + "/1_batch_\(k).json.sha256")
                    h.check(line == "\(checksum)  1_batch_\(k).json\n", "1_batch_\(k).json.sha256 is \(line.debugDescription)")
                }
                h.check(!h.sandbox.exists(accepted + "/2_batch_1.json.sha256"), "a checksum was written for a file its batch did not merge")
            }
        }

        // MARK: A half-written output at restart

        /// Attempt 1's agent writes half its output in place and hangs; the daemon is SIGKILLed.
        /// The restart kills the agent and its recovery validates the half file (attempt 1
        /// fails). The startup scan sees the same file: it must not be judged again as a
        /// "dropped" attempt 2 (it once was: recovery's effects ran, then the scan's sighting
        /// found the batch in retry_wait with the file not archived yet).
        @Test("a half-written output found at restart is judged once, as the interrupted attempt's")
        func halfWrittenOutputJudgedOnce() throws {
            let pipeline = CrashPipeline(run: "half", phases: 1, batches: 1, batchSize: 3, concurrency: 1, maxAttempts: 3,
                                         agentBody: """
                                         if [ "$attempt" = 1 ]; then printf '{"results": {"i1": {"id"' > "$out"; exec sleep 600; fi
                                         object_batch "$start" "$end" | publish "$out"
                                         """)
            try withCrashHarness("half-written", pipeline) { h in
                let first = try h.start()
                let log = try CrashLogFollower(h.eventLog)
                try log.wait("the half file seen as incomplete", daemon: first, within: 20) {
                    $0.lines.contains { $0.contains("\"reason\":\"output_incomplete\"") }
                }
                try h.kill9(first)
                let (_, startLine) = try h.runToCompletion()
                let after = try h.records().dropFirst(startLine)
                let transitions = after.filter { $0.event == "batch.transition" }
                    .map { "#\($0.attempt ?? 0) \($0.from ?? "")→\($0.to ?? "")\($0.reason.map { " (\($0))" } ?? "")" }
                h.check(!after.contains { $0.reason == "output_dropped" }, "the half file was judged twice: \(transitions)")
                h.check(after.contains { $0.isTransition(phase: "1", batch: 1, to: "retry_wait", reason: "validation_failed", attempt: 1) },
                        "attempt 1 should fail on its half file: \(transitions)")
                h.check(after.contains { $0.isTransition(phase: "1", batch: 1, to: "merged", attempt: 2) }, "attempt 2 should merge: \(transitions)")
                h.check(h.list(h.runFolder + "/rejected") == ["1_batch_1.attempt-1.errors.json", "1_batch_1.attempt-1.json"],
                        "rejected/ holds \(h.list(h.runFolder + "/rejected"))")
                h.checkEmpty(try crashInvariantProblems(h), "after a restart over a half-written output")
            }
        }

        // MARK: A failed attempt's file, not archived yet

        /// A crash right after the group commit that logs `→ retry_wait` for a bad output, before
        /// the file is moved to `rejected/`: the restart finds the file in the outbox again. It
        /// was judged already (attempt 1); it must be archived as attempt 1, and attempt 2 must
        /// be a new agent's, not the same file judged again.
        @Test("a failed attempt's file left in the outbox by a crash is archived, not judged again as a new attempt")
        func failedOutputNotArchivedBeforeTheCrash() throws {
            let pipeline = CrashPipeline(run: "redo", phases: 1, batches: 1, batchSize: 3, concurrency: 1, maxAttempts: 3,
                                         agentBody: """
                                         if [ "$attempt" = 1 ]; then skip=$start; else skip=0; fi
                                         object_batch "$start" "$end" "$skip" | publish "$out"
                                         """, backoffSeconds: 30)
            try withCrashHarness("failed-not-archived", pipeline) { h in
                let first = try h.start()
                let log = try CrashLogFollower(h.eventLog)
                try log.wait("attempt 1 rejected and archived", daemon: first, within: 20) {
                    $0.lines.contains { CrashLogFollower.isEvent($0, "file.archived") && $0.contains("\"reason\":\"rejected\"") }
                }
                try h.kill9(first)
                // Back to the moment after the group commit: the log ends with attempt 1's
                // `→ retry_wait` group, the file is still in the outbox, no errors file yet.
                let lines = try h.records()
                let failed = try #require(lines.lastIndex { $0.isTransition(phase: "1", batch: 1, to: "retry_wait", attempt: 1) })
                let keep = lines.prefix(through: failed).map(\.line).joined(separator: "\n") + "\n"
                try h.sandbox.write(h.eventLog, keep)
                try FileSystem.rename(h.runFolder + "/rejected/1_batch_1.attempt-1.json", h.outbox + "/1_batch_1.json")
                try FileSystem.unlink(h.runFolder + "/rejected/1_batch_1.attempt-1.errors.json")
                var quick = pipeline // the 30 s backoff only kept attempt 2 from starting before the kill
                quick.backoffSeconds = 0.05
                _ = try quick.install(in: h.sandbox)

                let (_, startLine) = try h.runToCompletion()
                let after = try h.records().dropFirst(startLine)
                h.checkEmpty(try crashInvariantProblems(h), "after the crash")
                let transitions = after.filter { $0.event == "batch.transition" }
                    .map { "#\($0.attempt ?? 0) \($0.from ?? "")→\($0.to ?? "")\($0.reason.map { " (\($0))" } ?? "")" }
                // The retry_wait record carries the judged file's checksum: the same file found
                // again goes to rejected/ under its own attempt instead of being judged twice.
                #expect(!after.contains { $0.reason == "output_dropped" }, "the restart judged attempt 1's file again: \(transitions)")
                #expect(after.contains { $0.isTransition(phase: "1", batch: 1, to: "merged", attempt: 2) },
                        "attempt 2 should be the first new agent's, and merge: \(transitions)")
                #expect(h.sandbox.exists("mailbox/redo/rejected/1_batch_1.attempt-1.json"),
                        "attempt 1's file is not in rejected/ under its own attempt: \(h.list(h.runFolder + "/rejected"))")
            }
        }

        // MARK: Torn tails

        /// A crash in the middle of an append leaves half a line.
        @Test("a last line cut in the middle is saved aside and the run completes as if uninterrupted")
        func truncatedLastLine() throws {
            try tornTail("torn-truncated") { bytes in
                let lastStart = (bytes.dropLast().lastIndex(of: 0x0A) ?? -1) + 1
                let cut = lastStart + (bytes.count - lastStart) / 2
                return (Array(bytes[..<cut]), Array(bytes[lastStart..<cut]))
            }
        }

        /// A power loss can leave zeros after the last good line.
        @Test("4096 zero bytes after the last line are saved aside and the run completes as if uninterrupted")
        func zerosAfterLastLine() throws {
            try tornTail("torn-zeros") { bytes in (bytes + [UInt8](repeating: 0, count: 4096), [UInt8](repeating: 0, count: 4096)) }
        }

        /// Crashes the standard pipeline mid-run (right after its third merge is logged), damages
        /// the log's end with `damage` (which returns the new log and the bytes that must be
        /// saved aside), restarts, and expects the tail kept in `events.jsonl.broken-*`, a
        /// `watcher.recovered` with `torn_tail_saved`, and the uninterrupted run's outputs.
        func tornTail(_ name: String, damage: ([UInt8]) -> (log: [UInt8], tail: [UInt8])) throws {
            let pipeline = CrashPipeline.publishing
            let reference = try CrashReference.outputs(pipeline)
            try withCrashHarness(name, pipeline) { h in
                let crashed = try h.start(fault: "transition_logged:3")
                h.check(try crashed.finish(within: 30) == .exited(99), "the fault did not fire: \(crashed.stderr)")
                let (damaged, tail) = damage(try FileSystem.readFile(h.eventLog))
                try FileSystem.unlink(h.eventLog)
                let fd = try FileDescriptor.open(h.eventLog, O_WRONLY | O_CREAT | O_TRUNC)
                try fd.writeAll(damaged)
                try fd.close()

                let (daemon, startLine) = try h.runToCompletion()
                h.check(daemon.stderr.contains("cut off a damaged tail of \(tail.count) bytes"), "stderr does not report the cut: \(daemon.stderr)")
                let broken = h.list(h.root + "/logs").filter { $0.hasPrefix("events.jsonl.broken-") }
                h.check(broken.count == 1, "expected one events.jsonl.broken-*, found \(broken)")
                if let saved = broken.first {
                    h.check(try FileSystem.readFile(h.root + "/logs/" + saved) == tail, "\(saved) does not hold exactly the damaged tail")
                }
                let records = try h.records()
                let recovered = records.dropFirst(startLine).first { $0.event == "watcher.recovered" }
                h.check(recovered?["torn_tail_saved"]?.string == broken.first.map { h.root + "/logs/" + $0 },
                        "watcher.recovered does not name the saved tail: \(recovered?.line ?? "none")")
                h.checkEmpty(try crashInvariantProblems(h), "after a torn tail")
                h.checkEmpty(try CrashOutputs(h).differences(from: reference), "outputs differ from the uninterrupted run after a torn tail")
            }
        }

        // MARK: Corruption in the middle

        /// A damaged line followed by good ones is not a crash's doing: the daemon must refuse to
        /// start (rather than cut 45 good records), say which line, and leave the log as it is.
        @Test("a corrupt byte in line 5 of 50 stops the start with the line number")
        func corruptLineInTheMiddle() throws {
            try withCrashHarness("corrupt-middle", CrashPipeline.publishing) { h in
                try h.runToCompletion()
                var lines: [[UInt8]] = try FileSystem.readFile(h.eventLog).split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { Array($0) }
                try #require(lines.count >= 50, "the run logged only \(lines.count) lines")
                lines = Array(lines.prefix(50))
                // Flip one bit of a digit of line 5's timestamp: still JSON, still plausible, but its crc fails.
                let tsAt = try #require(lines[4].firstRange(of: Array(#""ts":"20"#.utf8))?.upperBound)
                lines[4][tsAt] ^= 0x01
                let damaged: [UInt8] = lines.flatMap { line -> [UInt8] in line + [0x0A] }
                let fd = try FileDescriptor.open(h.eventLog, O_WRONLY | O_TRUNC)
                try fd.writeAll(damaged)
                try fd.close()

                let daemon = try h.start()
                let status = try daemon.finish(within: 20)
                h.check(status != .exited(0) && status != .exited(99), "the daemon ended \(status); expected a failure exit")
                h.check(daemon.stderr.contains("events.jsonl:5:"), "stderr does not name line 5: \(daemon.stderr)")
                h.check(try FileSystem.readFile(h.eventLog) == damaged, "the daemon changed the damaged log")
                h.check(!h.list(h.root + "/logs").contains { $0.hasPrefix("events.jsonl.broken-") }, "a mid-log corruption was cut as a torn tail")
            }
        }
    }
}
