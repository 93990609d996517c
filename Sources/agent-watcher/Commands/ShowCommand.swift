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
        let lines = args.int("lines") ?? 10
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
        let attempts = try self.attempts(of: b, records: records, layout: layout, lines: lines)
        let id = b.id
        let cost = CostReport.build(records).run(id.run)?.batches.first { $0.id == id }
        if json { Console.out(OutputJSON.batch(b, attempts: attempts.map(\.0), usage: cost?.attempts ?? []).description); return 0 }
        Console.out("run \(id.run) phase \(id.phase) batch \(id.index): \(b.state.rawValue) after \(b.attempt) attempt(s)")
        for (a, errorsPath, unreadable) in attempts {
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

    /// Each attempt's records, its errors file (or why it cannot be read) and its agent log's tail.
    static func attempts(of b: Batch, records: [EventRecord], layout: Layout, lines: Int) throws
        -> [(OutputJSON.Attempt, errorsPath: String, unreadable: String?)] {
        let id = b.id
        let mine = records.filter { $0.event.batchID == id }
        var out: [(OutputJSON.Attempt, errorsPath: String, unreadable: String?)] = []
        for attempt in 1...max(1, b.attempt) {
            let rs = mine.filter { $0.event.attempt == attempt }
            guard let first = rs.first else { continue }
            let errorsPath = layout.rejected(id.run) + "/\(id.phase)_batch_\(id.index).attempt-\(attempt).errors.json"
            var report: ValidationReport?
            var unreadable: String?
            if FileSystem.exists(errorsPath) {
                do { report = try ValidationReport.parse(try FileSystem.readRegularFile(errorsPath)).get() } catch { unreadable = "\(error)" }
            }
            let log = layout.agentLog(id, attempt: attempt)
            var tail: [String] = []
            if FileSystem.exists(log) {
                let text = String(decoding: try FileSystem.readRegularFile(log), as: UTF8.self)
                tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1)
                    .dropLast(text.hasSuffix("\n") ? 1 : 0).map(String.init)
            }
            out.append((OutputJSON.Attempt(attempt: attempt, started: first.ts, records: rs, errors: report, agentLog: log,
                                           agentLogTail: tail), errorsPath, unreadable))
        }
        return out
    }
}
