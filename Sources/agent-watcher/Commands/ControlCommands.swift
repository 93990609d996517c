import AgentWatcher
import Foundation
import WatcherCore
import WatcherSystem

/// `pause RUN`, `resume RUN`, `retry RUN PHASE BATCH`, `skip RUN PHASE BATCH`,
/// `cancel RUN [PHASE BATCH]`: each drops a control message
/// for the daemon and reports its answer from the event log.
enum ControlCommands {
    static func handler(_ verb: ControlCommand.Verb) -> @Sendable (Arguments) throws -> Int32 {
        { args in try main(verb, args) }
    }

    static func main(_ verb: ControlCommand.Verb, _ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        var fields: [(String, String)] = [("command", ControlClient.string(verb.rawValue))]
        let pos = args.positionals
        // A responder's breaker and a thread of turns: no run.
        if verb == .resume, let responder = args.option("responder") {
            guard pos.isEmpty else { throw args.usageError("give RUN or --responder NAME, not both") }
            return try answer(verb, "--responder \(responder)", layout: layout,
                              fields + [("responder", ControlClient.string(responder))])
        }
        if verb == .cancel, let thread = args.option("thread") {
            guard pos.isEmpty else { throw args.usageError("give RUN [PHASE BATCH] or --thread ID, not both") }
            return try answer(verb, "--thread \(thread)", layout: layout, fields + [("thread", ControlClient.string(thread))])
        }
        guard !pos.isEmpty else { throw args.usageError(verb == .resume ? "give RUN, or --responder NAME" : "give RUN, or --thread ID") }
        switch verb {
        case .pause, .resume, .retry, .skip:
            // `resume --force`: go on past the run's budget.
            if verb == .resume, args.flag("force") { fields.append(("force", "true")) }
            if verb == .retry {
                let rebuild = args.flag("rebuild")
                guard pos.count == (rebuild ? 2 : 3) else {
                    throw args.usageError(rebuild ? "--rebuild takes RUN PHASE (a whole phase), no BATCH" : "missing BATCH (or give --rebuild)")
                }
                if rebuild { fields.append(("rebuild", "true")) }
            }
        case .cancel:
            guard pos.count == 1 || pos.count == 3 else { throw args.usageError("give RUN, or RUN PHASE BATCH") }
        case .drain:
            preconditionFailure("drain is DrainCommand")
        }
        fields.append(("run", ControlClient.string(pos[0])))
        if pos.count == 2 {
            fields.append(("phase", ControlClient.string(pos[1])))
        }
        if pos.count == 3 {
            guard let k = Int(pos[2]), k >= 1 else { throw args.usageError("BATCH must be a whole number ≥ 1, got '\(pos[2])'") }
            fields.append(("phase", ControlClient.string(pos[1])))
            fields.append(("batch", String(k)))
        }
        return try answer(verb, pos.joined(separator: " "), layout: layout, fields, batchCount: verb != .pause && verb != .resume)
    }

    /// Drops the control message and reports the daemon's answer: 0 applied, 1 rejected.
    static func answer(_ verb: ControlCommand.Verb, _ what: String, layout: Layout, _ fields: [(String, String)],
                       batchCount: Bool = false) throws -> Int32 {
        let answer = try ControlClient(layout: layout).send(fields)
        let e = answer.event
        if e.event == EventName.controlApplied {
            if e.bool("rebuild") == true {
                let n = e.int("batches") ?? 0
                Console.out("retry \(what) --rebuild: applied, the main file was rebuilt from \(n) accepted batch file\(n == 1 ? "" : "s")")
                return 0
            }
            let n = !batchCount ? "" : e.int("batches").map { ", \($0) batch\($0 == 1 ? "" : "es")" } ?? ""
            Console.out("\(verb.rawValue) \(what): applied\(n)")
            return 0
        }
        Console.error("agent-watcher: \(verb.rawValue) \(what): rejected: \(e.reason ?? "no reason given")")
        return 1
    }
}
