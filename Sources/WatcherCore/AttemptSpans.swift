/// Each attempt of each batch from spawn to its last transition, from the log: what the batch
/// page lists and the timeline draws.
public struct AttemptSpan: Equatable, Sendable {
    public var id: BatchID
    public var attempt: Int
    public var startTS: String
    public var endTS: String
    public var start: Double
    public var end: Double
    /// The state the attempt ended in (or is in now).
    public var outcome: String
    public var reason: String?
    public var failureClass: String?
    public var exitStatus: String?
    public var pid: Int?
    public var errors: Int?
    public var active: Bool { BatchState(rawValue: outcome)?.isActive ?? false }
    /// The attempt has ended (merged, failed, retry_wait, …): later records of the batch that
    /// still carry its number (a retry's `failed → pending`) do not stretch it.
    public var ended = false
}

public enum AttemptSpans {
    public static func collect(_ records: [EventRecord]) -> [AttemptSpan] {
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

    /// When each batch's latest attempt was spawned (seconds since the epoch): what a running
    /// cell counts its elapsed time from.
    public static func lastSpawn(_ records: [EventRecord]) -> [BatchID: Double] {
        var out: [BatchID: Double] = [:]
        for r in records where r.event.event == EventName.transition && r.event.to == BatchState.spawning.rawValue {
            if let id = r.event.batchID, let t = EventFormatter.seconds(r.ts) { out[id] = t }
        }
        return out
    }
}
