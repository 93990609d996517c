import AgentWatcher
import Foundation
import WatcherCore
import WatcherSystem

/// `status [--watch] [--json] [--check]`: a reader; it takes no lock and writes nothing.
enum StatusCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        if args.flag("watch") { return try StatusWatch(layout: layout).run() }
        let pid = try ControlClient(layout: layout).runningDaemon()
        guard FileSystem.exists(layout.eventLog) else {
            if args.flag("json") {
                Console.out(StatusReport(runs: [], daemonRunning: pid != nil).statusJSON(root: layout.root, generatedAt: now()).description)
            } else {
                Console.out("no event log at \(layout.eventLog): nothing has run on this root yet")
            }
            return 0
        }
        let contents = try EventLogReader.read(layout.eventLog)
        let report = StatusReport.build(contents.records, daemonRunning: pid != nil, now: now())
        let costs = CostReport.build(contents.records)
        if args.flag("json") {
            Console.out(report.statusJSON(root: layout.root, generatedAt: now(), costs: costs).description)
        } else {
            Console.out(StatusText.daemonLine(pid))
            Console.out(StatusText.render(report, costs: costs))
            let responders = TurnSummary.build(contents.records).responders
            if !responders.isEmpty {
                Console.out("responders:")
                for r in responders { Console.out("  " + TurnSummary.text(r)) }
            }
            // What the dashboard's "needs you" lists too: files refused or moved aside, kept with a note.
            let rejected = contents.records.filter { $0.event.event == EventName.fileRejected }.count
            if rejected > 0 {
                Console.out("files rejected: \(rejected), each kept with a note beside it (agent-watcher tail --event file.rejected --root \(layout.root))")
            }
            if !contents.tornTail.isEmpty {
                Console.out("note: the log ends in \(contents.tornTail.count) damaged bytes; the daemon cuts them off at its next start")
            }
        }
        return args.flag("check") ? StatusText.checkCode(report) : 0
    }

    static func now() -> Double {
        let (s, us) = Clock.realtime()
        return Double(s) + Double(us) / 1e6
    }
}
