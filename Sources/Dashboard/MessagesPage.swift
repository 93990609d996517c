import WatcherCore

/// `/messages`: agent messages as threads (as `messages` prints them) with their bodies,
/// stuck threads first, then waiting ones, each thread's responder turns (as `messages` prints
/// them), totals per sender and per type, and filters by agent, type, state, run and text (the
/// query: `?agent=&type=&state=&run=&q=`; a GET that only reads).
enum MessagesPage {
    static func render(messages: [MessageThreads.Message], turns: TurnSummary, filter: MessagesView.Filter, problems: [String],
                       lastSeq: UInt64) -> String {
        let h = PageFrame.h, a = PageFrame.a
        let view = MessagesView.build(messages, filter: filter, stuck: Set(turns.threads.filter(\.stuck).map(\.thread)))
        var s = "<h1>Messages</h1><form id=\"msg-filter\" class=\"filters\" method=\"get\" action=\"/messages\">"
        for (name, label, values, chosen) in [("agent", "agent", view.agents, filter.agent), ("type", "type", view.types, filter.type),
                                               ("state", "state", view.states, filter.state), ("run", "run", view.runs, filter.run)] {
            s += "<label>\(label) <select name=\"\(name)\" id=\"f-\(name)\"><option value=\"\">any</option>"
            for v in values { s += "<option value=\"\(a(v))\"\(v == chosen ? " selected" : "")>\(h(v))</option>" }
            if let c = chosen, !values.contains(c) { s += "<option value=\"\(a(c))\" selected>\(h(c))</option>" }
            s += "</select></label> "
        }
        s += "<label>text <input name=\"q\" id=\"f-q\" class=\"filter\" value=\"\(a(filter.text ?? ""))\" placeholder=\"id, name, body…\"></label> "
        s += "<button type=\"submit\">filter</button> <a href=\"/messages\">clear</a></form>"
        let matched = view.matching.count
        s += "<p id=\"msg-summary\" data-matching=\"\(matched)\" data-total=\"\(view.total)\" data-threads=\"\(view.threads.count)\">"
        s += filter.isEmpty ? "\(view.total) message(s) in \(view.threads.count) thread(s)" : "\(matched) of \(view.total) message(s) match, in \(view.threads.count) thread(s)"
        s += " <span id=\"msg-new\" class=\"quiet\"></span></p>"
        s += "<p class=\"totals\" id=\"totals\">per sender: " + view.bySender.map { "\(h($0.name)) \($0.count)" }.joined(separator: " · ")
        s += "<br>per type: " + view.byType.map { "\(h($0.name)) \($0.count)" }.joined(separator: " · ") + "</p>"
        for p in problems.prefix(20) { s += "<p class=\"error\">\(h(p))</p>" }
        if view.threads.isEmpty { s += "<p class=\"quiet\">\(messages.isEmpty ? "no agent messages yet" : "no message matches")</p>" }
        for t in view.threads {
            let waiting = MessagesView.waiting(t)
            let tt = turns.thread(t.root)
            let mark = tt?.stuck == true ? " · STUCK (turn limit)" : tt?.cancelled == true ? " · cancelled" : waiting ? " · waiting" : ""
            s += "<article class=\"thread\(waiting || tt?.stuck == true ? " stuck" : "")\" data-root=\"\(a(t.root))\"\(tt?.stuck == true ? " data-stuck=\"true\"" : "")>"
            s += "<h3>thread \(h(t.root))\(h(mark))</h3><ul>"
            for e in t.entries {
                let m = e.message
                var line = "\(m.from) → \(m.to) [\(m.type)] \(m.status)"
                if let r = m.run { line += " run \(r)" }
                if let p = m.phase, let b = m.batch { line += " \(p)/\(b)" }
                let hit = view.matching.contains(m.id)
                s += "<li class=\"depth-\(min(e.depth, 6)) \(hit ? "match" : "context")\" data-id=\"\(a(m.id))\"><code>\(h(m.id))</code> \(h(line))"
                if let body = m.body {
                    let text = MessagesView.bodyText(body)
                    s += "<pre class=\"body\">\(h(text.count > 4000 ? String(text.prefix(4000)) + "…" : text))</pre>"
                }
                s += "</li>"
            }
            s += "</ul>"
            if let tt, !tt.turns.isEmpty {
                s += "<table class=\"turns\"><caption>responder turns</caption><tr><th>message</th><th>turn</th></tr>"
                for turn in tt.turns {
                    s += "<tr class=\"turn-\(a(turn.state))\"><td><code>\(h(turn.message))</code></td><td>\(h(TurnSummary.text(turn)))</td></tr>"
                }
                s += "</table>"
            }
            s += "</article>"
        }
        return PageFrame.render(title: "messages", page: "messages", boot: PageFrame.boot("messages", lastSeq: lastSeq), body: s)
    }
}
