import WatcherCore

/// `/events`: the event log, newest last, live, filterable by run, phase/batch and event name.
enum EventsPage {
    static func render(entries: ArraySlice<DashboardLog.Entry>, lastSeq: UInt64) -> String {
        let h = PageFrame.h, a = PageFrame.a
        var s = "<h1>Events</h1><p class=\"filters\"><input id=\"f-run\" class=\"filter\" placeholder=\"run\"> <input id=\"f-batch\" class=\"filter\" placeholder=\"phase/batch\"> <input id=\"f-event\" class=\"filter\" placeholder=\"event name\"></p>"
        s += "<table class=\"events\" id=\"events\"><thead><tr><th>seq</th><th>event</th><th>run</th><th>batch</th><th>line</th></tr></thead><tbody>"
        for e in entries {
            let r = e.record, ev = r.event
            let where_ = ev.phase.flatMap { p in ev.batch.map { "\(p)/\($0)" } } ?? ""
            s += "<tr data-run=\"\(a(ev.run ?? ""))\" data-batch=\"\(a(where_))\" data-event=\"\(a(ev.event))\"><td>\(r.seq)</td><td>\(h(ev.event))</td><td>\(h(ev.run ?? ""))</td><td>\(h(where_))</td><td>\(h(EventFormatter.line(r)))</td></tr>"
        }
        s += "</tbody></table>"
        return PageFrame.render(title: "events", page: "events", boot: PageFrame.boot("events", lastSeq: lastSeq), body: s)
    }
}
