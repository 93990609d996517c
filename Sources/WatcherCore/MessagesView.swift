/// What the dashboard's `/messages` page shows, decided from the messages alone: the threads
/// that hold a message matching the filter, waiting threads first (otherwise in order), totals
/// per sender and per type over the matching messages, and the values each filter can take.
public struct MessagesView: Sendable {
    /// The page's filters, from its query (`agent`, `type`, `state`, `run`, `q`); an empty value
    /// filters nothing. `agent` matches sender or recipient; `state` a message's status, or
    /// `waiting` for every message of a waiting thread; `q` any text of the message
    /// (id, names, type, status, run, body), ignoring case.
    public struct Filter: Equatable, Sendable {
        public var agent: String?
        public var type: String?
        public var state: String?
        public var run: String?
        public var text: String?

        public init(agent: String? = nil, type: String? = nil, state: String? = nil, run: String? = nil, text: String? = nil) {
            func v(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }
            self.agent = v(agent)
            self.type = v(type)
            self.state = v(state)
            self.run = v(run)
            self.text = v(text)
        }

        public init(query: [(name: String, value: String)]) {
            func q(_ n: String) -> String? { query.first { $0.name == n }?.value }
            self.init(agent: q("agent"), type: q("type"), state: q("state"), run: q("run"), text: q("q"))
        }

        public var isEmpty: Bool { self == Filter() }

        public func matches(_ m: MessageThreads.Message, inWaitingThread waiting: Bool) -> Bool {
            if let a = agent, m.from != a && m.to != a { return false }
            if let t = type, m.type != t { return false }
            if let s = state, !(s == "waiting" ? waiting : m.status == s) { return false }
            if let r = run, m.run != r { return false }
            if let q = text?.lowercased() {
                let hay = [m.id, m.from, m.to, m.type, m.status, m.run ?? "", m.body.map(MessagesView.bodyText) ?? ""]
                guard hay.contains(where: { $0.lowercased().contains(q) }) else { return false }
            }
            return true
        }
    }

    public var threads: [MessageThreads.Thread]
    /// Ids of the messages that match (the others are shown as the context of their thread).
    public var matching: Set<String>
    public var bySender: [(name: String, count: Int)]
    public var byType: [(name: String, count: Int)]
    public var total: Int
    /// The values the filters can take, from every message.
    public var agents: [String], types: [String], states: [String], runs: [String]

    /// `stuck`: roots of threads a responder's turn limit stopped (``TurnSummary``): shown first.
    public static func build(_ messages: [MessageThreads.Message], filter: Filter, stuck: Set<String> = []) -> MessagesView {
        let all = MessageThreads.build(messages)
        var shown: [MessageThreads.Thread] = []
        var matching = Set<String>()
        var sender: [String: Int] = [:], type: [String: Int] = [:]
        for t in all {
            let w = waiting(t)
            let hits = t.entries.map(\.message).filter { filter.matches($0, inWaitingThread: w) }
            guard !hits.isEmpty else { continue }
            shown.append(t)
            for m in hits { matching.insert(m.id); sender[m.from, default: 0] += 1; type[m.type, default: 0] += 1 }
        }
        // Stuck threads first, then waiting ones; the order within each group is kept.
        let first = shown.filter { stuck.contains($0.root) }
        let rest = shown.filter { !stuck.contains($0.root) }
        shown = first + rest.filter(waiting) + rest.filter { !waiting($0) }
        func sortedCounts(_ d: [String: Int]) -> [(name: String, count: Int)] { d.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
        let statuses = Set(messages.map(\.status)).union(all.contains(where: waiting) ? ["waiting"] : [])
        return MessagesView(threads: shown, matching: matching, bySender: sortedCounts(sender), byType: sortedCounts(type),
                            total: messages.count,
                            agents: Set(messages.flatMap { [$0.from, $0.to] }).sorted(), types: Set(messages.map(\.type)).sorted(),
                            states: statuses.sorted(), runs: Set(messages.compactMap(\.run)).sorted())
    }

    /// A thread whose last message is not yet acknowledged or consumed.
    public static func waiting(_ t: MessageThreads.Thread) -> Bool {
        guard let last = t.entries.last?.message.status else { return false }
        return last != "acknowledged" && last != "consumed"
    }

    /// A body as the page shows it: a string as it is, anything else as compact JSON.
    public static func bodyText(_ body: JSONValue) -> String {
        body.stringValue ?? String(decoding: body.serialized(), as: UTF8.self)
    }
}
