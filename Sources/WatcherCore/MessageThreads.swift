/// Conversations between agents, for `agent-watcher messages`: messages grouped into threads
/// by their `reply_to` chains, from the event log's `message.*` records and the message files
/// themselves (which hold the bodies, and the messages no daemon has read yet).
public enum MessageThreads {
    /// One message as the `messages` command shows it.
    public struct Message: Equatable, Sendable {
        public var id: String
        public var from: String
        public var to: String
        public var type: String
        public var replyTo: String?
        public var run: String?
        public var phase: String?
        public var batch: Int?
        /// `queued` (a file no daemon has read yet), `received`, `delivered`, `unacknowledged`,
        /// `acknowledged`, `consumed` (by the watcher).
        public var status: String
        /// `ts` of `message.received`, when logged.
        public var received: String?
        public var path: String?
        public var body: JSONValue?
        /// Position of first appearance (log order, then files).
        public var order: Int

        public init(id: String, from: String, to: String, type: String, replyTo: String? = nil, run: String? = nil,
                    phase: String? = nil, batch: Int? = nil, status: String, received: String? = nil, path: String? = nil,
                    body: JSONValue? = nil, order: Int) {
            self.id = id
            self.from = from
            self.to = to
            self.type = type
            self.replyTo = replyTo
            self.run = run
            self.phase = phase
            self.batch = batch
            self.status = status
            self.received = received
            self.path = path
            self.body = body
            self.order = order
        }
    }

    /// A conversation: its first message and every reply below it, depth-first in order.
    public struct Thread: Equatable, Sendable {
        public var root: String
        public var entries: [Entry]
        public struct Entry: Equatable, Sendable {
            public var depth: Int
            public var message: Message
        }
        public var ids: [String] { entries.map(\.message.id) }
    }

    /// Merges what the log says with what the files say. `files` are envelopes found on disk,
    /// with their paths; a file's body fills in a logged message of the same id.
    public static func collect(records: [EventRecord], files: [(path: String, message: AgentMessage)]) -> [Message] {
        var byID: [String: Message] = [:]
        var order = 0
        for r in records where r.event.event.hasPrefix("message.") {
            let e = r.event
            guard let id = e.string("id") else { continue }
            var m = byID[id] ?? Message(id: id, from: e.from ?? "?", to: e.to ?? "?", type: e.string("type") ?? "?",
                                        replyTo: e.string("reply_to"), run: e.run, phase: e.phase, batch: e.batch,
                                        status: "received", order: order)
            if byID[id] == nil { order += 1 }
            if let p = e.string("path") { m.path = p }
            switch e.event {
            case EventName.messageReceived:
                m.received = r.ts
                m.type = e.string("type") ?? m.type
                m.replyTo = e.string("reply_to") ?? m.replyTo
                if m.status != "acknowledged" && m.status != "consumed" { m.status = "received" }
            case EventName.messageDelivered:
                if m.status == "received" { m.status = "delivered" }
            case EventName.messageUnacknowledged:
                if m.status != "acknowledged" && m.status != "consumed" { m.status = "unacknowledged" }
            case EventName.messageAcknowledged:
                m.status = e.reason?.hasPrefix("consumed") == true ? "consumed" : "acknowledged"
            default:
                break
            }
            byID[id] = m
        }
        for (path, f) in files {
            if var m = byID[f.id] {
                if m.body == nil { m.body = f.body }
                if m.replyTo == nil { m.replyTo = f.replyTo }
                if m.path == nil { m.path = path }
                byID[f.id] = m
            } else {
                byID[f.id] = Message(id: f.id, from: f.from, to: f.to, type: f.type.rawValue, replyTo: f.replyTo,
                                     run: f.run, phase: f.phase, batch: f.batch, status: "queued", path: path,
                                     body: f.body, order: order)
                order += 1
            }
        }
        return byID.values.sorted { $0.order < $1.order }
    }

    /// Groups messages into threads: a message belongs to the thread of the message it replies
    /// to; one that replies to nothing known starts a thread. Threads come in the order of
    /// their first message; replies below their parent, in order.
    public static func build(_ messages: [Message]) -> [Thread] {
        let sorted = messages.sorted { $0.order < $1.order }
        let byID = Dictionary(sorted.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var children: [String: [Message]] = [:]
        var roots: [Message] = []
        for m in sorted {
            if let parent = m.replyTo, byID[parent] != nil, !startsCycle(m, byID) {
                children[parent, default: []].append(m)
            } else {
                roots.append(m)
            }
        }
        // A cycle of replies (a -> b -> a) has no root: its earliest message starts the thread.
        var placed = Set<String>()
        var threads: [Thread] = []
        func walk(_ m: Message, depth: Int, into entries: inout [Thread.Entry]) {
            guard placed.insert(m.id).inserted else { return }
            entries.append(.init(depth: depth, message: m))
            for c in children[m.id] ?? [] { walk(c, depth: depth + 1, into: &entries) }
        }
        for r in roots {
            var entries: [Thread.Entry] = []
            walk(r, depth: 0, into: &entries)
            threads.append(Thread(root: r.id, entries: entries))
        }
        return threads
    }

    /// Whether following `reply_to` from `m` comes back to `m`, and `m` is the earliest
    /// message of that cycle (the one that starts its thread).
    static func startsCycle(_ m: Message, _ byID: [String: Message]) -> Bool {
        var seen: Set<String> = [m.id]
        var next = m.replyTo
        while let n = next, let p = byID[n] {
            if n == m.id { return true }
            guard seen.insert(n).inserted else { return false }
            if p.order < m.order { return false }
            next = p.replyTo
        }
        return false
    }

    /// The thread holding message `id`.
    public static func thread(containing id: String, in threads: [Thread]) -> Thread? {
        threads.first { $0.ids.contains(id) }
    }
}
