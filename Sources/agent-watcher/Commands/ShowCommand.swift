import AgentWatcher
import Foundation
import WatcherCore
import WatcherSystem

/// `show RUN`: every batch, one line each. `show RUN PHASE BATCH`: every attempt of a batch
/// with times, exit status, errors, the agent log's path and its last lines.
enum ShowCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        let lines = args.int("lines") ?? 10
        let pos = args.positionals
        guard pos.count == 1 || pos.count == 3 else { throw args.usageError("give RUN, or RUN PHASE BATCH") }
        let records = try EventLogReader.read(layout.eventLog).records
        let state = StatusReport.replay(records)
        guard let plan = state.plans[pos[0]] else {
            Console.error("agent-watcher: no run \(pos[0]) in \(layout.eventLog)")
            return 1
        }
        if pos.count == 1 {
            for id in plan.batchIDs {
                guard let b = state.batches[id] else { continue }
                var s = "phase \(id.phase) batch \(id.index): \(b.state.rawValue)  attempts \(b.attempt)"
                if let r = b.lastReason { s += "  last: \(r)" }
                Console.out(s)
            }
            return 0
        }
        guard let k = Int(pos[2]), let b = state.batches[BatchID(run: pos[0], phase: pos[1], index: k)] else {
            Console.error("agent-watcher: no batch \(pos[1])/\(pos[2]) in run \(pos[0])")
            return 1
        }
        let id = b.id
        Console.out("run \(id.run) phase \(id.phase) batch \(id.index): \(b.state.rawValue) after \(b.attempt) attempt(s)")
        let mine = records.filter { $0.event.batchID == id }
        for attempt in 1...max(1, b.attempt) {
            let rs = mine.filter { $0.event.attempt == attempt }
            guard let first = rs.first else { continue }
            Console.out("\nattempt \(attempt): started \(first.ts)")
            for r in rs where r.event.event != EventName.transition || r.event.to != "spawning" {
                Console.out("  " + EventFormatter.line(r))
            }
            let errors = layout.rejected(id.run) + "/\(id.phase)_batch_\(id.index).attempt-\(attempt).errors.json"
            if FileSystem.exists(errors) {
                do {
                    let report = try ValidationReport.parse(try FileSystem.readFile(errors)).get()
                    Console.out("  errors (\(errors)):")
                    for e in report.errors.prefix(20) {
                        Console.out("    - \(e.item.map { $0 + " " } ?? "")[\(e.type)] \(e.message)\(e.suggestion.map { " (\($0))" } ?? "")")
                    }
                    if report.errors.count > 20 { Console.out("    … \(report.errors.count - 20) more") }
                } catch {
                    Console.out("  errors: cannot read \(errors): \(error)")
                }
            }
            let log = layout.agentLog(id, attempt: attempt)
            Console.out("  agent log: \(log)")
            if FileSystem.exists(log) {
                let text = String(decoding: try FileSystem.readFile(log), as: UTF8.self)
                for l in text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1).dropLast(text.hasSuffix("\n") ? 1 : 0) {
                    Console.out("    | \(l)")
                }
            }
        }
        return 0
    }
}
