import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import WatcherSystem

extension CrashSafety {
    /// The crash matrix: `AGENT_WATCHER_FAULT=<step>:<n>` makes the daemon `_exit(99)` right
    /// after the n-th time it reaches a step of a merge, a claim or a spawn. A restart with no
    /// fault must then finish the run with the same main files (byte for byte) and the same
    /// `accepted/` files as a run that was never interrupted, each batch merged once.
    @Suite("Crash matrix: _exit right after each step, restart, same outputs")
    struct CrashMatrixTests {
        struct FaultCase: Sendable, CustomTestStringConvertible {
            var step: String
            var occurrence: Int
            var testDescription: String { "\(step):\(occurrence)" }
        }

        static let steps = ["claim", "validate", "temp_write", "temp_fsync", "rename", "folder_fsync",
                            "transition_logged", "archive", "spawn_intent", "spawned"]

        /// Every step the first time and the third time (the 2x4 pipeline reaches each one 8 times:
        /// the third is mid-run, with batches of both phases in flight).
        static let cases = steps.flatMap { [FaultCase(step: $0, occurrence: 1), FaultCase(step: $0, occurrence: 3)] }

        @Test("crash right after the step, restart, compare with an uninterrupted run", arguments: cases)
        func crashAfterStep(_ fault: FaultCase) throws {
            let pipeline = CrashPipeline.publishing
            let reference = try CrashReference.outputs(pipeline)
            try withCrashHarness("crash-\(fault.step)-\(fault.occurrence)", pipeline) { h in
                let crashed = try h.start(fault: fault.testDescription)
                let status = try crashed.finish(within: 30)
                h.check(status == .exited(99), "with AGENT_WATCHER_FAULT=\(fault.testDescription) the daemon ended \(status), not exit 99; stderr: \(crashed.stderr)")
                h.check(crashed.stderr.contains("fault injection: exiting after \(fault.step)"),
                        "stderr does not say where it crashed: \(crashed.stderr)")
                let before = try h.records()
                h.check(!before.contains { $0.event == "run.completed" }, "the run completed before the crash: the fault hit nothing")

                let (daemon, startLine) = try h.runToCompletion()
                let after = try h.records()
                h.check(after.dropFirst(startLine).contains { $0.event == "watcher.recovered" },
                        "the restart (pid \(daemon.pid)) logged no watcher.recovered")
                h.checkEmpty(try crashInvariantProblems(h), "after a crash at \(fault.testDescription)")
                h.checkEmpty(try CrashOutputs(h).differences(from: reference),
                             "outputs differ from the uninterrupted run after a crash at \(fault.testDescription)")
                // A crash between the steps of an atomic replace leaves its temp file; the restart removes it.
                if ["temp_write", "temp_fsync"].contains(fault.step) {
                    let recovered = after.dropFirst(startLine).first { $0.event == "watcher.recovered" }
                    let temps = recovered?["stale_temps"]?.strings ?? []
                    h.check(temps.count == 1 && temps.allSatisfy { $0.contains("/out/.phase") },
                            "watcher.recovered should name the main file's stale temp file: \(recovered?.line ?? "none")")
                }
                let leftovers = h.list(h.root + "/out").filter { $0.hasPrefix(".") }
                h.check(leftovers.isEmpty, "temp files left beside the main files: \(leftovers)")
                h.check(CrashProcs.living(withRoot: h.root).isEmpty,
                        "agents still alive after the final stop: \(CrashProcs.living(withRoot: h.root))")
            }
        }

        /// jsonl main files are appended in place, the append's `main.written` record (offset,
        /// length, CRC-32) durable first. A crash after the record and before the write, or in
        /// the middle of the write (half of the lines written), is repaired at the restart (cut
        /// back to the offset, the batch merged again): the same main files as a run never
        /// interrupted, no line lost or doubled.
        @Test("jsonl: crash between the append's record and its write, or in the write; restart repairs",
              arguments: ["append_logged:1", "append_logged:2", "append_torn:1", "append_torn:2"])
        func crashInAppend(_ fault: String) throws {
            let pipeline = CrashPipeline.publishingLines
            let reference = try CrashReference.outputs(pipeline)
            try withCrashHarness("crash-\(fault)", pipeline) { h in
                let crashed = try h.start(fault: fault)
                let status = try crashed.finish(within: 30)
                h.check(status == .exited(99), "with AGENT_WATCHER_FAULT=\(fault) the daemon ended \(status), not exit 99; stderr: \(crashed.stderr)")
                let before = try h.records()
                let appends = before.filter { $0.event == "main.written" && $0["append_offset"] != nil }
                guard let last = appends.last, let path = last["path"]?.string, let offset = last["append_offset"]?.int,
                      let length = last["append_length"]?.int else {
                    h.check(false, "no main.written record of an append before the crash")
                    return
                }
                let size = Int(try FileSystem.lstat(path).size)
                if fault.hasPrefix("append_torn") {
                    h.check(size == offset + length / 2, "the write was not cut in half: \(size) bytes, offset \(offset), length \(length)")
                } else {
                    h.check(size == offset, "the file changed before the write: \(size) bytes, offset \(offset)")
                }
                let (_, startLine) = try h.runToCompletion()
                let after = Array(try h.records().dropFirst(startLine))
                let repairs = after.filter { $0.event == "main.repaired" }
                if fault.hasPrefix("append_torn") {
                    h.check(repairs.count == 1 && repairs.first?["to"]?.int == offset && repairs.first?["path"]?.string == path,
                            "the torn append was not cut back to \(offset) once: \(repairs.map(\.line))")
                } else {
                    h.check(repairs.isEmpty, "nothing was torn, yet: \(repairs.map(\.line))")
                }
                h.checkEmpty(try crashInvariantProblems(h), "after a crash at \(fault)")
                h.checkEmpty(try CrashOutputs(h).differences(from: reference),
                             "outputs differ from the uninterrupted run after a crash at \(fault)")
            }
        }
    }
}
