import WatcherCore

/// Each attempt of each batch from spawn to its last transition, from the log: what the batch
/// page lists and the timeline draws.
struct AttemptSpan {
    var id: BatchID
    var attempt: Int
    var startTS: String
    var endTS: String
    var start: Double
    var end: Double
    /// The state the attempt ended in (or is in now).
    var outcome: String
    var reason: String?
    var failureClass: String?
    var exitStatus: String?
    var pid: Int?
    var errors: Int?
    var active: Bool { BatchState(rawValue: outcome)?.isActive ?? false }
    /// The attempt has ended (merged, failed, retry_wait, …): later records of the batch that
    /// still carry its number (a retry's `failed → pending`) do not stretch it.
    var ended = false
}

enum AttemptSpans {
    static func collect(_ records: [EventRecord]) -> [AttemptSpan] {
        var spans: [String: AttemptSpan] = [:]
        var order: [String] = []
        for r in records {
            let e = r.event
            guard let id = e.batchID, let n = e.attempt, n >= 1, let t = EventFormatter.seconds(r.ts) else { continue }
            let key = "\(id)#\(n)"
            if e.event == EventName.transition, let to = e.to {
                if spans[key] == nil {
                    guard to == BatchState.spawning.rawValue else { continue }
                    spans[key] = AttemptSpan(id: id, attempt: n, startTS: r.ts, endTS: r.ts, start: t, end: t, outcome: to)
                    order.append(key)
                }
                guard spans[key]?.ended == false else { continue }
                spans[key]?.endTS = r.ts
                spans[key]?.end = t
                spans[key]?.outcome = to
                if let p = e.int("pid") { spans[key]?.pid = p }
                if let reason = e.reason { spans[key]?.reason = reason }
                if let c = e.failureClass { spans[key]?.failureClass = c.rawValue }
                if let errors = e.int("errors") { spans[key]?.errors = errors }
                if BatchState(rawValue: to).map({ !$0.isActive }) ?? true { spans[key]?.ended = true }
            } else if e.event == EventName.agentExited {
                spans[key]?.exitStatus = e.string("status")
            }
        }
        return order.compactMap { spans[$0] }
    }
}
