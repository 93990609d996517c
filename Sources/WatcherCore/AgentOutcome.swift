/// What the watcher read from a JSON agent's standard output when it exited: the CLI's report,
/// or why it could not be read. Fed to the core with `Input.agentExited`.
public enum AgentOutcome: Equatable, Sendable {
    case report(AgentReport)
    case unreadable(AgentOutputError)

    public var verdict: AgentVerdict? {
        if case .report(let r) = self { return r.verdict }
        return nil
    }

    /// The `agent.usage` record of an attempt.
    public func event(_ id: BatchID, attempt: Int) -> Event {
        Event(event: EventName.agentUsage, run: id.run, phase: id.phase, batch: id.index, attempt: attempt, details: details)
    }

    /// The members of its `agent.usage` record: tokens, cost, session, verdict.
    public var details: [Event.Detail] {
        var d: [Event.Detail] = []
        switch self {
        case .report(let r):
            let u = r.usage
            d.append(.init("models", .strings(u.models.map(\.model))))
            d.append(.init("input_tokens", .int(u.inputTokens)))
            d.append(.init("output_tokens", .int(u.outputTokens)))
            d.append(.init("cache_read_tokens", .int(u.cacheReadTokens)))
            d.append(.init("cache_write_tokens", .int(u.cacheWriteTokens)))
            if let c = u.costUSD { d.append(.init("cost_usd", .double(c))) }
            d.append(.init("estimated", .bool(u.estimated)))
            if let v = u.apiMilliseconds { d.append(.init("api_ms", .int(v))) }
            if let v = u.turns { d.append(.init("turns", .int(v))) }
            if let v = u.sessionID { d.append(.init("session_id", .string(v))) }
            d.append(.init("verdict", .string(r.verdict.kind)))
            if let c = r.verdict.failureClass { d.append(.init("class", .string(c.rawValue))) }
            if let m = r.verdict.message { d.append(.init("message", .string(String(m.prefix(300))))) }
        case .unreadable(let e):
            d.append(.init("verdict", .string("unreadable")))
            d.append(.init("message", .string(String(e.message.prefix(300)))))
        }
        return d
    }
}

extension AgentUsage {
    /// The usage an `agent.usage` record holds (models by name only).
    public init(record e: Event) {
        self.init(models: (e.strings("models") ?? []).map { ModelTokens(model: $0) },
                  inputTokens: e.int("input_tokens") ?? 0, outputTokens: e.int("output_tokens") ?? 0,
                  cacheReadTokens: e.int("cache_read_tokens") ?? 0, cacheWriteTokens: e.int("cache_write_tokens") ?? 0,
                  costUSD: e.number("cost_usd"), estimated: e.bool("estimated") ?? false,
                  apiMilliseconds: e.int("api_ms"), turns: e.int("turns"), sessionID: e.string("session_id"))
    }
}

extension EventName {
    /// What one attempt's agent CLI said it used (tokens, cost, turns) and its own verdict.
    public static let agentUsage = "agent.usage"
    /// A run paused by its budget goes on: the budget was raised.
    public static let runResumed = "run.resumed"
}

extension Event {
    /// A number member, whole or not (the log reader gives whole numbers as `.int`).
    public func number(_ key: String) -> Double? {
        switch self[key] {
        case .int(let v)?: return Double(v)
        case .double(let v)?: return v
        default: return nil
        }
    }
}
