import AgentWatcher
import Foundation
import WatcherCore
import WatcherSystem

/// `pause RUN`, `resume RUN`, `retry RUN PHASE BATCH`, `skip RUN PHASE BATCH`,
/// `cancel RUN [PHASE BATCH]`, `drain RUN [--max N] [--force]`: each drops a control message
/// for the daemon and reports its answer from the event log.
enum ControlCommands {
    static func handler(_ verb: ControlCommand.Verb) -> @Sendable (Arguments) throws -> Int32 {
        { args in try main(verb, args) }
    }

    static func main(_ verb: ControlCommand.Verb, _ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        var fields: [(String, String)] = [("command", ControlClient.string(verb.rawValue))]
        let pos = args.positionals
        switch verb {
        case .pause, .resume, .retry, .skip:
            break
        case .cancel:
            guard pos.count == 1 || pos.count == 3 else { throw args.usageError("give RUN, or RUN PHASE BATCH") }
        case .drain:
            if let max = args.int("max") {
                guard max >= 1 else { throw args.usageError("--max must be ≥ 1") }
                fields.append(("max", String(max)))
            }
            if args.flag("force") { fields.append(("force", "true")) }
            if args.flag("dry-run") {
                return try DrainDryRun.main(layout: layout, run: pos[0], fields: fields)
            }
        }
        fields.append(("run", ControlClient.string(pos[0])))
        if pos.count == 3 {
            guard let k = Int(pos[2]), k >= 1 else { throw args.usageError("BATCH must be a whole number ≥ 1, got '\(pos[2])'") }
            fields.append(("phase", ControlClient.string(pos[1])))
            fields.append(("batch", String(k)))
        }
        let answer = try ControlClient(layout: layout).send(fields)
        let e = answer.event
        if e.event == EventName.controlApplied {
            let n = verb == .pause || verb == .resume ? "" : e.int("batches").map { ", \($0) batch\($0 == 1 ? "" : "es")" } ?? ""
            Console.out("\(verb.rawValue) \(pos.joined(separator: " ")): applied\(n)")
            if verb == .drain { try DrainDryRun.printOrder(layout: layout, run: pos[0]) }
            return 0
        }
        Console.error("agent-watcher: \(verb.rawValue) \(pos.joined(separator: " ")): rejected: \(e.reason ?? "no reason given")")
        return 1
    }
}

/// `drain RUN --dry-run`: the exact order a drain would use, from the event log alone.
enum DrainDryRun {
    static func main(layout: Layout, run: String, fields: [(String, String)]) throws -> Int32 {
        let state = try replay(layout)
        guard state.plans[run] != nil else {
            Console.error("agent-watcher: no run \(run) in \(layout.eventLog)")
            return 1
        }
        let max = fields.first { $0.0 == "max" }.flatMap { Int($0.1) }
        let force = fields.contains { $0.0 == "force" }
        let plan = DrainPlanner.plan(state, run: run, max: max, force: force)
        Console.out("drain \(run) --dry-run: \(plan.order.count) batch(es) would be re-queued, in this order (nothing changed):")
        for (i, e) in plan.order.enumerated() {
            Console.out("  \(i + 1). phase \(e.id.phase) batch \(e.id.index)  [\(e.priority)]  attempts used: \(e.attempts)  last reason: \(e.reason ?? "none")")
        }
        for h in plan.heldBack { Console.out("  held back: phase \(h.id.phase) batch \(h.id.index): \(h.why)") }
        return 0
    }

    static func printOrder(layout: Layout, run: String) throws {
        let records = try EventLogReader.read(layout.eventLog).records
        guard let started = records.last(where: { $0.event.event == EventName.drainStarted && $0.event.run == run }) else { return }
        let order = started.event.strings("order") ?? []
        let held = started.event.strings("held_back") ?? []
        Console.out("  order: " + (order.isEmpty ? "(nothing to re-queue)" : order.joined(separator: ", ")))
        if !held.isEmpty { Console.out("  held back (same error twice; use --force): " + held.joined(separator: ", ")) }
    }

    static func replay(_ layout: Layout) throws -> WatcherState {
        StatusReport.replay(try EventLogReader.read(layout.eventLog).records)
    }
}
