import AgentWatcher
import Foundation
import WatcherCore
import WatcherSystem

/// `show RUN`: every batch, one line each. `show RUN PHASE BATCH`: every attempt of a batch
/// with times, exit status, errors, the agent log's path and its last lines. `--json`: the same
/// as one JSON document (`OutputJSON.batches` / `OutputJSON.batch`).
enum ShowCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        let lines = args.int("lines") ?? BatchAttempts.defaultLogLines
        let json = args.flag("json")
        let pos = args.positionals
        if let thread = args.option("thread") {
            guard pos.isEmpty else { throw args.usageError("give RUN [PHASE BATCH] or --thread ID, not both") }
            return try MessagesCommand.showThread(thread, layout: layout)
        }
        guard pos.count == 1 || pos.count == 3 else { throw args.usageError("give RUN, or RUN PHASE BATCH, or --thread ID") }
        let records = try EventLogReader.read(layout.eventLog).records
        let state = StatusReport.replay(records)
        guard let plan = state.plans[pos[0]] else {
            Console.error("agent-watcher: no run \(pos[0]) in \(layout.eventLog)")
            return 1
        }
        if pos.count == 1 {
            let batches = plan.batchIDs.compactMap { state.batches[$0] }
            if json { Console.out(OutputJSON.batches(run: pos[0], batches).description); return 0 }
            for b in batches {
                var s = "phase \(b.id.phase) batch \(b.id.index): \(b.state.rawValue)  attempts \(b.attempt)"
                if let r = b.lastReason { s += "  last: \(r)" }
                Console.out(s)
            }
            return 0
        }
        guard let k = Int(pos[2]), let b = state.batches[BatchID(run: pos[0], phase: pos[1], index: k)] else {
            Console.error("agent-watcher: no batch \(pos[1])/\(pos[2]) in run \(pos[0])")
            return 1
        }
        let attempts = try BatchAttempts.collect(of: b, records: records, layout: layout, lines: lines)
        let id = b.id
        let cost = CostReport.build(records).run(id.run)?.batches.first { $0.id == id }
        if json { Console.out(OutputJSON.batch(b, attempts: attempts.map(\.attempt), usage: cost?.attempts ?? []).description); return 0 }
        Console.out("run \(id.run) phase \(id.phase) batch \(id.index): \(b.state.rawValue) after \(b.attempt) attempt(s)")
        for entry in attempts {
            let (a, errorsPath, unreadable) = (entry.attempt, entry.errorsPath, entry.unreadable)
            Console.out("\nattempt \(a.attempt): started \(a.started)")
            if let job = a.jobID { Console.out("  slurm job \(job)") }
            for r in a.records where r.event.event != EventName.transition || r.event.to != "spawning" {
                Console.out("  " + EventFormatter.line(r))
            }
            for u in cost?.attempts ?? [] where u.attempt == a.attempt { Console.out(CostLines.attempt(u)) }
            if let unreadable { Console.out("  errors: cannot read \(errorsPath): \(unreadable)") }
            if let report = a.errors {
                Console.out("  errors (\(errorsPath)):")
                for e in report.errors.prefix(20) {
                    Console.out("    - \(e.item.map { $0 + " " } ?? "")[\(e.type)] \(e.message)\(e.suggestion.map { " (\($0))" } ?? "")")
                }
                if report.errors.count > 20 { Console.out("    … \(report.errors.count - 20) more") }
            }
            Console.out("  agent log: \(a.agentLog)")
            let stdout = layout.agentStdout(id, attempt: a.attempt)
            if FileSystem.exists(stdout) { Console.out("  agent stdout: \(stdout)") }
            for l in a.agentLogTail { Console.out("    | \(l)") }
        }
        return 0
    }
}
