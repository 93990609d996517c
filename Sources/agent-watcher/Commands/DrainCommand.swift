import AgentWatcher
import Foundation
import Glibc
import WatcherCore
import WatcherSystem

/// `drain RUN | --all [--max N] [--force] [--dry-run] [--no-wait]`, `drain --report ID`:
/// re-queues failed batches in priority order (the daemon does it, through a control message),
/// waits until every re-queued batch has ended, prints the summary and writes it as JSON to
/// `logs/drains/<drain-id>.json` (the CLI writes it: it asked for the drain).
enum DrainCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        if let id = args.option("report") {
            guard args.positionals.isEmpty, !args.flag("all") else { throw args.usageError("--report ID takes no RUN nor --all") }
            return try printReport(id, layout: layout, json: args.flag("json"))
        }
        if args.flag("json") { throw args.usageError("--json goes with --report ID") }
        let all = args.flag("all")
        guard all != (args.positionals.count == 1) else { throw args.usageError("give RUN or --all (one of them)") }
        let max = args.int("max")
        if let max, max < 1 { throw args.usageError("--max must be ≥ 1") }
        let force = args.flag("force")
        let state = StatusReport.replay(try EventLogReader.read(layout.eventLog).records)
        let runs = all ? state.plans.keys.sorted() : args.positionals
        for run in runs where state.plans[run] == nil {
            Console.error("agent-watcher: no run \(run) in \(layout.eventLog)")
            return 1
        }
        if args.flag("dry-run") {
            for run in runs { printDryRun(DrainPlanner.plan(state, run: run, max: max, force: force), run: run) }
            return 0
        }
        let client = ControlClient(layout: layout)
        let follower = try LogFollower(layout: layout)
        var starts: [EventRecord] = []
        let (s, us) = Clock.realtime()
        let id = "drain-" + Clock.iso8601(seconds: s, microseconds: us).filter { $0.isNumber }.prefix(20) + "-\(getpid())"
        for run in runs {
            var fields: [(String, String)] = [("command", ControlClient.string("drain")), ("run", ControlClient.string(run)),
                                              ("drain_id", ControlClient.string(id))]
            if let max { fields.append(("max", String(max))) }
            if force { fields.append(("force", "true")) }
            let answer = try client.send(fields)
            guard answer.event.event == EventName.controlApplied else {
                Console.error("agent-watcher: drain \(run): rejected: \(answer.event.reason ?? "no reason given")")
                return 1
            }
            let records = try EventLogReader.read(layout.eventLog).records
            guard let started = records.last(where: { $0.event.event == EventName.drainStarted && $0.event.run == run && $0.seq < answer.seq }) else {
                Console.error("agent-watcher: drain \(run): applied, but no drain.started record precedes the answer in \(layout.eventLog)")
                return 1
            }
            starts.append(started)
            let order = started.event.strings("order") ?? []
            let held = started.event.strings("held_back") ?? []
            Console.out("drain \(run): applied (\(id)), \(order.count) batch\(order.count == 1 ? "" : "es") re-queued in this order: "
                        + (order.isEmpty ? "(nothing to re-queue)" : order.joined(separator: ", ")))
            if !held.isEmpty { Console.out("  held back (same error twice; use --force): " + held.joined(separator: ", ")) }
        }
        if args.flag("no-wait") { return 0 }
        var records = try EventLogReader.read(layout.eventLog).records
        var report = DrainReport.build(id: id, starts: starts, records: records)
        while !report.isFinished {
            let last = records.last?.seq ?? 0
            let new = try follower.readNew().compactMap(\.record).filter { $0.seq > last }
            records += new
            report = DrainReport.build(id: id, starts: starts, records: records)
            if report.isFinished { break }
            guard try client.runningDaemon() != nil else {
                Console.error("agent-watcher: the daemon stopped before the drained batches ended")
                Console.out(report.text)
                return 1
            }
            _ = try follower.waitForWrite(timeoutMilliseconds: -1)
        }
        try FileSystem.createDirectory(layout.logs + "/drains")
        let path = layout.logs + "/drains/\(id).json"
        try AtomicFile.replace(path, with: report.json.prettySerialized() + [0x0A])
        Console.out(report.text)
        Console.out("report: \(path) (agent-watcher drain --report \(id))")
        return report.failed == 0 && report.notDone == 0 ? 0 : 2
    }

    static func printReport(_ id: String, layout: Layout, json: Bool) throws -> Int32 {
        if let problem = PlainName.check(id) { throw UsageError("--report: \(problem)", command: "drain") }
        let path = layout.logs + "/drains/\(id).json"
        guard FileSystem.exists(path) else {
            Console.error("agent-watcher: no drain report \(path)")
            return 1
        }
        let bytes = try FileSystem.readFile(path)
        if json { Console.out(String(decoding: bytes, as: UTF8.self)); return 0 }
        guard let report = DrainReport(json: try JSONParser.parse(bytes)) else {
            Console.error("agent-watcher: \(path): not a drain report")
            return 1
        }
        Console.out(report.text)
        return 0
    }

    static func printDryRun(_ plan: DrainPlanner.Plan, run: String) {
        Console.out("drain \(run) --dry-run: \(plan.order.count) batch(es) would be re-queued, in this order (nothing changed):")
        for (i, e) in plan.order.enumerated() {
            Console.out("  \(i + 1). phase \(e.id.phase) batch \(e.id.index)  [\(e.priority)]  attempts used: \(e.attempts)  last reason: \(e.reason ?? "none")")
        }
        for h in plan.heldBack { Console.out("  held back: phase \(h.id.phase) batch \(h.id.index): \(h.why)") }
    }
}
