/// Responder turns as the readers show them (`messages`, `show --thread`, `status`), folded
/// from the log's records: per thread its turns (responder, attempt, state, duration, usage),
/// stuck threads first; per responder its state and counts. Pure: records in, values out.
public struct TurnSummary: Equatable, Sendable {
    public struct TurnLine: Equatable, Sendable {
        public var message: String
        public var responder: String
        public var turn: Int
        public var attempt: Int
        public var state: String
        public var reason: String?
        public var error: String?
        public var replyID: String?
        /// From the first `spawning` to the last record of the turn, seconds.
        public var seconds: Double?
        public var inputTokens: Int
        public var outputTokens: Int
        public var costUSD: Double?
    }

    public struct ThreadTurns: Equatable, Sendable {
        public var thread: String
        public var stuck: Bool
        public var cancelled: Bool
        public var turns: [TurnLine]
    }

    public struct Responder: Equatable, Sendable {
        public var name: String
        /// `idle`, `running`, `paused`.
        public var state: String
        public var running: Int
        public var turns: Int
        public var replied: Int
        public var failed: Int
        public var consecutiveErrors: Int
    }

    public var threads: [ThreadTurns]
    public var responders: [Responder]

    public func thread(_ id: String) -> ThreadTurns? { threads.first { $0.thread == id } }

    /// Stuck threads first, the order kept within each group (`messages`, the dashboard).
    public static func stuckFirst(_ threads: [MessageThreads.Thread], _ turns: TurnSummary) -> [MessageThreads.Thread] {
        let stuck = Set(turns.threads.filter(\.stuck).map(\.thread))
        return threads.filter { stuck.contains($0.root) } + threads.filter { !stuck.contains($0.root) }
    }

    /// `declared`: responders to list even without turns; by default those the last
    /// `watcher.started` names (the specs of the daemon's last start).
    public static func build(_ records: [EventRecord], declared: [String]? = nil) -> TurnSummary {
        let declared = declared ?? records.last { $0.event.event == EventName.watcherStarted }?.event.strings("responders") ?? []
        var book = TurnBook()
        var lines: [String: TurnLine] = [:]
        var started: [String: Double] = [:]
        var order: [String] = []
        for r in records {
            let e = r.event
            book.apply(e)
            guard e.event == EventName.turnTransition, let m = e.string("message") else { continue }
            let ts = EventFormatter.seconds(r.ts)
            if lines[m] == nil { order.append(m) }
            var line = lines[m] ?? TurnLine(message: m, responder: e.string("responder") ?? "?", turn: e.int("turn") ?? 0,
                                            attempt: 0, state: "queued", inputTokens: 0, outputTokens: 0)
            line.state = e.to ?? line.state
            line.reason = e.reason
            if let a = e.attempt { line.attempt = a }
            if let err = e.string("error") { line.error = err }
            if let id = e.string("reply_id") { line.replyID = id }
            line.inputTokens += e.int("input_tokens") ?? 0
            line.outputTokens += e.int("output_tokens") ?? 0
            if let c = e.number("cost_usd") { line.costUSD = (line.costUSD ?? 0) + c }
            if e.to == Turn.State.spawning.rawValue, started[m] == nil, let ts { started[m] = ts }
            if let s = started[m], let ts { line.seconds = max(0, ts - s) }
            lines[m] = line
        }
        var byThread: [String: [TurnLine]] = [:]
        var threadOrder: [String] = []
        for m in order {
            guard let line = lines[m], let t = book.turn(m) else { continue }
            if byThread[t.thread] == nil { threadOrder.append(t.thread) }
            byThread[t.thread, default: []].append(line)
        }
        let threads = threadOrder.map { id in
            ThreadTurns(thread: id, stuck: book.stuckThreads.contains(id), cancelled: book.cancelledThreads.contains(id),
                        turns: (byThread[id] ?? []).sorted { ($0.turn, $0.message) < ($1.turn, $1.message) })
        }
        // Stuck threads first, then the others in the order they started.
        let sorted = threads.filter(\.stuck) + threads.filter { !$0.stuck }
        let names = Set(declared).union(book.turns.values.map(\.responder)).union(book.paused).sorted()
        let responders = names.map { name -> Responder in
            let mine = book.turns.values.filter { $0.responder == name }
            let running = mine.filter { $0.state.hasAgent }.count
            return Responder(name: name, state: book.paused.contains(name) ? "paused" : running > 0 ? "running" : "idle",
                             running: running, turns: mine.filter { $0.state != .stuck }.count,
                             replied: mine.filter { $0.state == .replied }.count, failed: mine.filter { $0.state == .failed }.count,
                             consecutiveErrors: book.consecutiveErrors[name] ?? 0)
        }
        return TurnSummary(threads: sorted, responders: responders)
    }

    /// `turn 2  reviewer  attempt 1  replied  0.4s  120 in / 30 out  $0.0200`.
    public static func text(_ t: TurnLine) -> String {
        var parts = ["turn \(t.turn)", t.responder, "attempt \(t.attempt)", t.state + (t.reason.map { " (\($0))" } ?? "")]
        if let s = t.seconds { parts.append(s < 10 ? "\((s * 10).rounded() / 10)s" : "\(Int(s.rounded()))s") }
        if t.inputTokens > 0 || t.outputTokens > 0 { parts.append("\(t.inputTokens) in / \(t.outputTokens) out") }
        if let c = t.costUSD { parts.append(CostFormat.usd(c)) }
        if let e = t.error, t.state != Turn.State.replied.rawValue { parts.append("error: " + DerivedName.terminalSafe(e, keepingNewlines: false)) }
        return parts.joined(separator: "  ")
    }

    /// `reviewer: idle, 3 turns (3 replied, 0 failed)`, with the errors in a row when there are any.
    public static func text(_ r: Responder) -> String {
        var s = "\(r.name): \(r.state)" + (r.running > 0 ? " (\(r.running) running)" : "")
            + ", \(r.turns) turn\(r.turns == 1 ? "" : "s") (\(r.replied) replied, \(r.failed) failed)"
        if r.consecutiveErrors > 0 { s += ", \(r.consecutiveErrors) failed in a row" }
        if r.state == "paused" { s += "; agent-watcher resume --responder \(r.name)" }
        return s
    }
}
