import Foundation
import WatcherCore

/// The status as people read it: per run and phase, counts and
/// `merged/total (percent) | elapsed | estimated total | remaining`.
enum StatusText {
    static func daemonLine(_ pid: Int32?) -> String {
        pid.map { "daemon: running (pid \($0))" }
            ?? "daemon: not running (no agent works now; batches that were running when it stopped are shown as interrupted)"
    }

    /// `14/34 (41.2%) | elapsed 45m0s | estimated total 1h50m | remaining 1h5m`
    static func progress(done: Int, total: Int, elapsed: Double?, remaining: Double?) -> String {
        let pct = total == 0 ? 100 : Double(done) * 100 / Double(total)
        var s = "\(done)/\(total) (\(String(format: "%.1f", pct))%) | elapsed \(elapsed.map(duration) ?? "-")"
        if let remaining {
            s += " | estimated total \(duration((elapsed ?? 0) + remaining)) | remaining \(duration(remaining))"
        } else {
            s += " | estimated total - | remaining -"
        }
        return s
    }

    static func render(_ report: StatusReport, costs: CostReport? = nil) -> String {
        var lines: [String] = []
        for run in report.runs {
            var head = "run \(run.run)"
            if run.completed { head += "  completed" } else if run.paused { head += "  PAUSED (\(run.pauseReason ?? "operator"))" }
            else if !report.daemonRunning { head += "  STOPPED (no daemon)" }
            if run.retries > 0 { head += "  retries: \(run.retries)" }
            lines.append(head)
            var progress = "  progress: " + StatusText.progress(done: run.done, total: run.total, elapsed: run.elapsedSeconds, remaining: run.etaSeconds)
            if run.etaSeconds == nil && !run.completed && report.daemonRunning && !run.paused { progress += " (ETA unknown until a batch merges)" }
            if run.etaSeconds != nil, run.remainingBatches > 0 {
                progress += " (\(run.remainingBatches) batch\(run.remainingBatches == 1 ? "" : "es") left, mean \(duration(run.meanBatchSeconds ?? 0)) per batch, concurrency \(run.concurrency))"
            }
            lines.append(progress)
            if run.paused, let message = run.pauseMessage { lines.append("  paused: \(message)") }
            lines += costs?.run(run.run).map(CostLines.run) ?? []
            let width = max(9, run.phases.map(\.phase.count).max() ?? 0)
            lines.append("  " + "phase".padding(toLength: width, withPad: " ", startingAt: 0)
                         + "  merged  running  interrupted  retrying  failed  blocked  pending  total")
            for p in run.phases {
                let cols = [p.count(.merged), p.running, p.interrupted, p.count(.retryWait), p.count(.failed), p.count(.blocked),
                            p.count(.pending), p.total]
                let widths = [6, 7, 11, 8, 6, 7, 7, 5]
                var line = "  " + p.phase.padding(toLength: width, withPad: " ", startingAt: 0)
                for (v, w) in zip(cols, widths) { line += "  " + String(repeating: " ", count: max(0, w - String(v).count)) + String(v) }
                let other = p.count(.skipped) + p.count(.cancelled)
                if other > 0 { line += "  (skipped \(p.count(.skipped)), cancelled \(p.count(.cancelled)))" }
                lines.append(line)
            }
            for p in run.phases {
                lines.append("  phase \(p.phase): " + StatusText.progress(done: p.done, total: p.total, elapsed: p.elapsedSeconds, remaining: p.remainingSeconds))
            }
        }
        return lines.isEmpty ? "no runs in the log yet" : lines.joined(separator: "\n")
    }

    static func duration(_ s: Double) -> String {
        if s < 60 { return String(format: "%.1fs", s) }
        if s < 3600 { return "\(Int(s) / 60)m\(Int(s) % 60)s" }
        return "\(Int(s) / 3600)h\(Int(s) % 3600 / 60)m"
    }

    /// `status --check` / `list --check`: 2 when a run has failed or blocked batches, or no
    /// daemon runs while a run is incomplete; else 0.
    static func checkCode(_ report: StatusReport) -> Int32 {
        if report.runs.contains(where: { $0.failedOrBlocked > 0 }) { return 2 }
        if !report.daemonRunning && report.runs.contains(where: { !$0.completed }) { return 2 }
        return 0
    }
}
