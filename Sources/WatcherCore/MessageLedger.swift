/// What the broker knows about agent messages: every message received (by id, so an id used
/// twice is caught), where its file is, and which delivered messages still wait for their
/// recipient to acknowledge them (move them to `cur/`) with the deadline after which
/// `message.unacknowledged` is logged, once.
///
/// Pure: the shell passes the time in. Live handling builds each event and folds it with the
/// same function replay uses (``apply(_:)``), so after a restart the pending acknowledgements
/// are known again; ``resume(now:wallClockSeconds:)`` then turns their logged delivery times
/// into deadlines on the monotonic clock.
public struct MessageLedger: Sendable {
    public enum Status: String, Equatable, Sendable { case received, delivered, acknowledged }

    public struct Entry: Equatable, Sendable {
        public var id: String
        public var from: String
        public var to: String
        public var type: String
        public var run: String?
        public var phase: String?
        public var batch: Int?
        public var replyTo: String?
        /// Where the file is now, as far as the log says.
        public var path: String
        public var status: Status
        /// When `message.unacknowledged` is due (live), nil once acknowledged or warned.
        public var deadline: Instant?
        /// The wall-clock time of `message.delivered` (seconds since 1970), from the log.
        public var deliveredAt: Double?
        /// `message.unacknowledged` was logged.
        public var warned: Bool
    }

    private struct Due: Comparable, Sendable {
        var at: Instant
        var id: String
        static func < (a: Due, b: Due) -> Bool { a.at != b.at ? a.at < b.at : a.id < b.id }
    }

    /// Time a recipient has to move a delivered message to `cur/`.
    public var ackTimeoutSeconds: Double
    public private(set) var entries: [String: Entry] = [:]
    private var idByPath: [String: String] = [:]
    private var deadlines = MinHeap<Due>()
    /// Files written in place that did not parse yet: read again at the deadline (settle window).
    private var rechecks: [String: Instant] = [:]

    public init(ackTimeoutSeconds: Double = 300) {
        self.ackTimeoutSeconds = ackTimeoutSeconds
    }

    /// The id of the message whose file is at `path`, if the ledger knows that file.
    public func id(atPath path: String) -> String? { idByPath[path] }

    public func entry(_ id: String) -> Entry? { entries[id] }

    /// Delivered messages not acknowledged yet, by id.
    public var pending: [Entry] {
        entries.values.filter { $0.status == .delivered }.sorted { $0.id < $1.id }
    }

    /// The id of the first message of `id`'s thread: its `reply_to` chain followed back as far
    /// as the ledger knows it (a cycle stops at the message it started from).
    public func threadRoot(of id: String) -> String { replyChain(of: id).first ?? id }

    /// The message's thread up to it: the messages it replies to, oldest first, itself last.
    public func replyChain(of id: String) -> [String] {
        var chain = [id]
        var seen: Set<String> = [id]
        var current = id
        while let up = entries[current]?.replyTo, entries[up] != nil, seen.insert(up).inserted {
            chain.append(up)
            current = up
        }
        return chain.reversed()
    }

    // MARK: - Live

    /// A well-formed message was read at `path`: `message.received`.
    public mutating func receive(_ m: AgentMessage, path: String) -> Event {
        var details: [Event.Detail] = [.init("id", .string(m.id)), .init("type", .string(m.type.rawValue))]
        if let r = m.replyTo { details.append(.init("reply_to", .string(r))) }
        details.append(.init("path", .string(path)))
        let e = Event(event: EventName.messageReceived, run: m.run, phase: m.phase, batch: m.batch,
                      from: m.from, to: m.to, details: details)
        fold(e, wallClock: nil, now: nil)
        return e
    }

    /// The message is in its recipient's `new/` at `path`: `message.delivered`, and the
    /// acknowledgement deadline starts.
    public mutating func deliver(id: String, path: String, now: Instant) -> Event? {
        guard let entry = entries[id], entry.status == .received else { return nil }
        let e = event(EventName.messageDelivered, entry, path: path)
        fold(e, wallClock: nil, now: now)
        return e
    }

    /// The recipient moved the message to `cur/` (now at `path`): `message.acknowledged`.
    /// `consumedBy` names the watcher when it handled a message addressed to it; `reason` says
    /// why the watcher filed a responder's message (`answered`, `failed`, `thread_stuck` ...).
    public mutating func acknowledge(id: String, path: String, consumedBy: String? = nil, reason: String? = nil) -> Event? {
        guard let entry = entries[id], entry.status != .acknowledged else { return nil }
        var e = event(EventName.messageAcknowledged, entry, path: path)
        if let consumedBy { e.reason = "consumed_by_\(consumedBy)" }
        if let reason { e.reason = reason }
        fold(e, wallClock: nil, now: nil)
        return e
    }

    /// `message.unacknowledged` for every delivered message whose deadline is at or before `now`.
    public mutating func tick(now: Instant) -> [Event] {
        var out: [Event] = []
        while let top = deadlines.min, top.at <= now {
            deadlines.popMin()
            guard let entry = entries[top.id], entry.status == .delivered, !entry.warned, entry.deadline == top.at else {
                continue
            }
            var e = event(EventName.messageUnacknowledged, entry, path: entry.path)
            e.details.append(.init("ack_timeout_ms", .int(Int((ackTimeoutSeconds * 1000).rounded()))))
            fold(e, wallClock: nil, now: now)
            out.append(e)
        }
        trim()
        return out
    }

    /// The earliest acknowledgement deadline or settle recheck, if any.
    public func nextDeadline() -> Instant? {
        let d = deadlines.min?.at
        guard let r = rechecks.values.min() else { return d }
        return d.map { min($0, r) } ?? r
    }

    /// A file written in place did not parse: read it again at `until` unless it changes first.
    public mutating func recheck(_ path: String, at until: Instant) { rechecks[path] = until }

    /// Stops waiting to read `path` again (it was read, moved or rejected).
    public mutating func forgetRecheck(_ path: String) { rechecks[path] = nil }

    /// Whether `path` is waiting for its settle window.
    public func isRechecking(_ path: String) -> Bool { rechecks[path] != nil }

    /// The files whose settle window has passed (and forgets them).
    public mutating func dueRechecks(now: Instant) -> [String] {
        let due = rechecks.filter { $0.value <= now }.map(\.key).sorted()
        for p in due { rechecks[p] = nil }
        return due
    }

    // MARK: - Replay

    /// Folds one logged record (a `message.*` event; others are ignored).
    public mutating func apply(_ record: EventRecord) {
        fold(record.event, wallClock: EventFormatter.seconds(record.ts), now: nil)
    }

    /// After replay: deadlines for the messages still waiting for an acknowledgement, counted
    /// from their logged delivery (a deadline already past fires at the next tick).
    public mutating func resume(now: Instant, wallClockSeconds: Double) {
        for (id, entry) in entries where entry.status == .delivered && !entry.warned && entry.deadline == nil {
            let elapsed = entry.deliveredAt.map { max(0, wallClockSeconds - $0) } ?? 0
            let at = now.adding(seconds: max(0, ackTimeoutSeconds - elapsed))
            entries[id]?.deadline = at
            deadlines.push(Due(at: at, id: id))
        }
    }

    // MARK: - The fold

    private func event(_ name: String, _ entry: Entry, path: String) -> Event {
        Event(event: name, run: entry.run, phase: entry.phase, batch: entry.batch, from: entry.from, to: entry.to,
              details: [.init("id", .string(entry.id)), .init("path", .string(path))])
    }

    /// The one place message events change the ledger. `now` is given live (a delivery starts
    /// its deadline); `wallClock` on replay (a delivery's time, for ``resume(now:wallClockSeconds:)``).
    private mutating func fold(_ e: Event, wallClock: Double?, now: Instant?) {
        guard e.event.hasPrefix("message."), let id = e.string("id") else { return }
        let path = e.string("path")
        if entries[id] == nil {
            entries[id] = Entry(id: id, from: e.from ?? "?", to: e.to ?? "?", type: e.string("type") ?? "?", run: e.run,
                                phase: e.phase, batch: e.batch, replyTo: e.string("reply_to"), path: path ?? "",
                                status: .received, deadline: nil, deliveredAt: nil, warned: false)
        }
        guard var entry = entries[id] else { return }
        if let path, path != entry.path {
            if idByPath[entry.path] == id { idByPath[entry.path] = nil }
            entry.path = path
        }
        if !entry.path.isEmpty { idByPath[entry.path] = id }
        switch e.event {
        case EventName.messageReceived:
            entry.status = .received
        case EventName.messageDelivered:
            entry.status = .delivered
            entry.deliveredAt = wallClock
            if let now {
                let at = now.adding(seconds: ackTimeoutSeconds)
                entry.deadline = at
                deadlines.push(Due(at: at, id: id))
            }
        case EventName.messageAcknowledged:
            entry.status = .acknowledged
            entry.deadline = nil
        case EventName.messageUnacknowledged:
            entry.warned = true
            entry.deadline = nil
        default:
            return
        }
        entries[id] = entry
        trim()
    }

    /// Drops heap tops that no longer stand for a live deadline, so ``nextDeadline()`` is exact.
    private mutating func trim() {
        while let top = deadlines.min {
            if let entry = entries[top.id], entry.status == .delivered, !entry.warned, entry.deadline == top.at { return }
            deadlines.popMin()
        }
    }
}

extension EventName {
    public static let messageReceived = "message.received"
    public static let messageDelivered = "message.delivered"
    public static let messageAcknowledged = "message.acknowledged"
    public static let messageUnacknowledged = "message.unacknowledged"
}
