import WatcherCore

/// The JSON API's shapes, built with the project's ``JSONValue``.
enum DashboardJSON {
    static func n(_ v: Int) -> JSONValue { .number(Double(v)) }
    static func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    static func batch(_ b: Batch, spans: [AttemptSpan]) -> JSONValue {
        .object([
            ("run", .string(b.id.run)), ("phase", .string(b.id.phase)), ("batch", n(b.id.index)),
            ("state", .string(b.state.rawValue)), ("attempts", n(b.attempt)), ("attempts_allowed", n(b.attemptsAllowed)),
            ("last_reason", opt(b.lastReason)), ("class", opt(b.lastClass?.rawValue)),
            ("attempt_list", .array(spans.map { s in
                .object([("attempt", n(s.attempt)), ("started", .string(s.startTS)), ("last_change", .string(s.endTS)),
                         ("seconds", .number(s.end - s.start)), ("outcome", .string(s.outcome)), ("reason", opt(s.reason)),
                         ("class", opt(s.failureClass)), ("exit", opt(s.exitStatus)), ("pid", s.pid.map(n) ?? .null)])
            })),
        ])
    }

    static func messages(_ threads: [MessageThreads.Thread]) -> JSONValue {
        .object([("threads", .array(threads.map { t in
            .object([("root", .string(t.root)), ("messages", .array(t.entries.map { e in
                .object([("depth", n(e.depth)), ("id", .string(e.message.id)), ("from", .string(e.message.from)),
                         ("to", .string(e.message.to)), ("type", .string(e.message.type)), ("status", .string(e.message.status)),
                         ("reply_to", opt(e.message.replyTo)), ("run", opt(e.message.run))])
            }))])
        }))])
    }
}
