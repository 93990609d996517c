import AgentWatcher
import Foundation
import WatcherCore

/// `list [--json] [--check]`: runs and their state, one line each, from the event log.
enum ListCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        let records = try EventLogReader.read(layout.eventLog).records
        let daemon = try ControlClient(layout: layout).runningDaemon() != nil
        let report = StatusReport.build(records, daemonRunning: daemon, now: StatusCommand.now())
        let costs = CostReport.build(records)
        if args.flag("json") {
            Console.out(report.listJSON(root: layout.root, costs: costs).description)
        } else if report.runs.isEmpty {
            Console.out("no runs in \(layout.eventLog)")
        }
        if !args.flag("json") {
            for run in report.runs {
                var merged = 0, failed = 0, active = 0
                for p in run.phases { merged += p.count(.merged); failed += p.count(.failed); active += p.running }
                let state = run.paused ? "paused (\(run.pauseReason ?? "operator"))" : run.state(daemonRunning: daemon)
                let last = records.last { $0.event.run == run.run }.map { String($0.ts.prefix(19)) } ?? "-"
                Console.out("\(run.run)  \(state)  merged \(merged)/\(run.total)  active \(active)  failed \(failed)  retries \(run.retries)  last event \(last)"
                            + (costs.run(run.run).map(CostLines.short) ?? ""))
            }
        }
        return args.flag("check") ? StatusText.checkCode(report) : 0
    }
}
