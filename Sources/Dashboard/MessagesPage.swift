import WatcherCore

/// `/messages`: agent messages as threads (as `messages` prints them), totals per sender and
/// per type, unanswered threads first, and a text filter.
enum MessagesPage {
    static func render(records: [EventRecord], lastSeq: UInt64) -> String {
        let h = PageFrame.h, a = PageFrame.a
        let messages = MessageThreads.collect(records: records, files: [])
        let threads = MessageThreads.build(messages).sorted { stuck($0) && !stuck($1) }
        var s = "<h1>Messages</h1><p><input id=\"filter\" class=\"filter\" placeholder=\"filter: agent, type, state, run, text\"></p>"
        var bySender: [String: Int] = [:], byType: [String: Int] = [:]
        for m in messages { bySender[m.from, default: 0] += 1; byType[m.type, default: 0] += 1 }
        s += "<p class=\"totals\">per sender: " + bySender.sorted { $0.key < $1.key }.map { "\(h($0.key)) \($0.value)" }.joined(separator: " · ")
        s += "<br>per type: " + byType.sorted { $0.key < $1.key }.map { "\(h($0.key)) \($0.value)" }.joined(separator: " · ") + "</p>"
        if threads.isEmpty { s += "<p class=\"quiet\">no agent messages yet</p>" }
        for t in threads {
            s += "<article class=\"thread filterable\(stuck(t) ? " stuck" : "")\"><h3>thread \(h(t.root))\(stuck(t) ? " · waiting" : "")</h3><ul>"
            for e in t.entries {
                let m = e.message
                var line = "\(m.from) → \(m.to) [\(m.type)] \(m.status)"
                if let r = m.run { line += " run \(r)" }
                if let p = m.phase, let b = m.batch { line += " \(p)/\(b)" }
                s += "<li class=\"depth-\(min(e.depth, 6))\" data-id=\"\(a(m.id))\"><code>\(h(m.id))</code> \(h(line))</li>"
            }
            s += "</ul></article>"
        }
        return PageFrame.render(title: "messages", page: "messages", boot: PageFrame.boot("messages", lastSeq: lastSeq), body: s)
    }

    /// A thread whose last message is not yet acknowledged or consumed.
    static func stuck(_ t: MessageThreads.Thread) -> Bool {
        guard let last = t.entries.last?.message.status else { return false }
        return last != "acknowledged" && last != "consumed"
    }
}
