import AgentWatcher
import Foundation
import WatcherCore
import WatcherSystem

enum StatusCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        let watch = args.flag("watch")
        if watch { return try StatusWatch(layout: layout).run() }
        guard FileSystem.exists(layout.eventLog) else {
            Console.out("no event log at \(layout.eventLog): nothing has run on this root yet")
            return 0
        }
        let contents = try EventLogReader.read(layout.eventLog)
        Console.out(daemonLine(layout))
        Console.out(render(StatusReport.build(contents.records)))
        if !contents.tornTail.isEmpty {
            Console.out("note: the log ends in \(contents.tornTail.count) damaged bytes; the daemon cuts them off at its next start")
        }
        return 0
    }

    static func daemonLine(_ layout: Layout) -> String {
        guard FileSystem.exists(layout.lockFile) else { return "daemon: not running" }
        do {
            let lock = try FileLock.acquire(layout.lockFile)
            lock.release()
            return "daemon: not running"
        } catch FileLock.Error.held {
            let pid = (try? FileSystem.readFile(layout.lockFile)).map { String(decoding: $0, as: UTF8.self) } // only shown
            return "daemon: running" + (pid.map { " (pid \($0.trimmingCharacters(in: .whitespacesAndNewlines)))" } ?? "")
        } catch {
            return "daemon: unknown (\(error))"
        }
    }

    static func render(_ report: StatusReport) -> String {
        var lines: [String] = []
        for run in report.runs {
            var head = "run \(run.run)"
            if run.completed { head += "  completed" } else if run.paused { head += "  PAUSED (\(run.pauseReason ?? "operator"))" }
            if run.retries > 0 { head += "  retries: \(run.retries)" }
            if let eta = run.etaSeconds, !run.completed, !run.paused, run.remainingBatches > 0 {
                head += "  ETA \(duration(eta)) (\(run.remainingBatches) batches left, mean \(duration(run.meanBatchSeconds ?? 0)) per batch, concurrency \(run.concurrency))"
            } else if !run.completed && !run.paused && run.remainingBatches > 0 {
                head += "  ETA unknown until a batch merges"
            }
            lines.append(head)
            if run.paused, let message = run.pauseMessage { lines.append("  paused: \(message)") }
            lines.append("  phase      merged  running  retrying  failed  blocked  pending  total")
            for p in run.phases {
                let cols = [p.count(.merged), p.running, p.count(.retryWait), p.count(.failed), p.count(.blocked),
                            p.count(.pending), p.total]
                let widths = [6, 7, 8, 6, 7, 7, 5]
                var line = "  " + p.phase.padding(toLength: 9, withPad: " ", startingAt: 0)
                for (v, w) in zip(cols, widths) { line += "  " + String(repeating: " ", count: max(0, w - String(v).count)) + String(v) }
                let other = p.count(.skipped) + p.count(.cancelled)
                if other > 0 { line += "  (skipped \(p.count(.skipped)), cancelled \(p.count(.cancelled)))" }
                lines.append(line)
            }
        }
        return lines.isEmpty ? "no runs in the log yet" : lines.joined(separator: "\n")
    }

    static func duration(_ s: Double) -> String {
        if s < 60 { return String(format: "%.1fs", s) }
        if s < 3600 { return "\(Int(s) / 60)m\(Int(s) % 60)s" }
        return "\(Int(s) / 3600)h\(Int(s) % 3600 / 60)m"
    }
}
