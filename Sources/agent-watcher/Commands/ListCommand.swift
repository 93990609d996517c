import AgentWatcher
import Foundation
import WatcherCore

/// `list`: runs and their state, one line each, from the event log.
enum ListCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        let records = try EventLogReader.read(layout.eventLog).records
        let report = StatusReport.build(records)
        if report.runs.isEmpty { Console.out("no runs in \(layout.eventLog)"); return 0 }
        let daemon = ControlClient(layout: layout).runningDaemon() != nil
        for run in report.runs {
            var merged = 0, failed = 0, active = 0, total = 0
            for p in run.phases { merged += p.count(.merged); failed += p.count(.failed); active += p.running; total += p.total }
            let state = run.completed ? "completed" : run.paused ? "paused (\(run.pauseReason ?? "operator"))" : daemon ? "running" : "stopped"
            let last = records.last { $0.event.run == run.run }.map { String($0.ts.prefix(19)) } ?? "-"
            Console.out("\(run.run)  \(state)  merged \(merged)/\(total)  active \(active)  failed \(failed)  retries \(run.retries)  last event \(last)")
        }
        return 0
    }
}
