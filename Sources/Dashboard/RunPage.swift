import AgentWatcher
import WatcherCore
import WatcherSystem

/// `/run/RUN`: the batch grid (phases × batches, coloured by state, the attempt count in the
/// cell, the last error on hover), pause/resume and drain with its dry-run order.
enum RunPage {
    /// `spawned`: when each batch's latest attempt was spawned; `now`: the server's clock, so a
    /// running cell shows its elapsed time and the page's script counts on from it.
    static func render(layout: Layout, state: WatcherState, plan: RunPlan, spawned: [BatchID: Double], now: Double,
                       lastSeq: UInt64) -> String {
        let h = PageFrame.h, a = PageFrame.a
        let run = plan.run
        let paused = state.paused.contains(run)
        var s = "<h1>run \(h(run))</h1><p class=\"actions\">"
        s += "<button data-cmd=\"pause\" data-run=\"\(a(run))\"\(paused ? " disabled" : "")>pause</button>"
        s += "<button data-cmd=\"resume\" data-run=\"\(a(run))\"\(paused ? "" : " disabled")>resume</button>"
        s += "<button data-cmd=\"drain\" data-run=\"\(a(run))\">drain</button> <a href=\"/timeline/\(a(run))\">timeline</a> <span id=\"answer\" class=\"answer\"></span></p>"
        if paused, let why = state.pauseReasons[run] {
            s += "<p class=\"paused\">paused: <b>\(h(why.reason))</b>\(why.message.map { " — " + h($0) } ?? "")</p>"
        }
        let drain = DrainPlanner.plan(state, run: run)
        s += "<details><summary>drain would re-queue \(drain.order.count) batch(es) (dry run)</summary><ol>"
        for e in drain.order { s += "<li>phase \(h(e.id.phase)) batch \(e.id.index) [\(h("\(e.priority)"))] attempts \(e.attempts), last \(h(e.reason ?? "none"))</li>" }
        for hb in drain.heldBack { s += "<li class=\"quiet\">held back: \(h(hb.id.phase))/\(hb.id.index): \(h(hb.why))</li>" }
        s += "</ol></details>"
        s += "<div class=\"legend\">" + BatchState.allCases.map { "<span class=\"cell st-\($0.rawValue)\">\($0.rawValue)</span>" }.joined() + "</div>"
        s += "<div class=\"gridwrap\"><table class=\"grid\" id=\"grid\" data-run=\"\(a(run))\"><tr><th></th>"
        let count = plan.batchIDs.map(\.index).max() ?? 0
        for k in stride(from: 1, through: count, by: 1) { s += "<th>\(k)</th>" }
        s += "</tr>"
        for p in plan.phases {
            s += "<tr><th>\(h(p.id))</th>"
            for k in stride(from: 1, through: count, by: 1) {
                let id = BatchID(run: run, phase: p.id, index: k)
                guard let b = state.batches[id] else { s += "<td></td>"; continue }
                let title = lastError(layout, b)
                var since = "", elapsed = ""
                if b.state.isActive, let t = spawned[id] {
                    since = " data-since=\"\(t)\""
                    elapsed = "<small class=\"el\">\(PageFrame.duration(max(0, now - t)))</small>"
                }
                s += "<td><a class=\"cell st-\(b.state.rawValue)\" id=\"c-\(a(p.id))-\(k)\" data-state=\"\(b.state.rawValue)\"\(since) href=\"/batch/\(a(run))/\(a(p.id))/\(k)\" title=\"\(a(title))\">\(b.attempt)\(elapsed)</a></td>"
            }
            s += "</tr>"
        }
        s += "</table></div>"
        return PageFrame.render(title: "run \(run)", page: "run", boot: PageFrame.boot("run", lastSeq: lastSeq, [("run", .string(run)), ("now", .number(now))]), body: s)
    }

    /// The state, the last reason, and for a failed batch the first validator error of its
    /// last attempt (read from `rejected/`).
    static func lastError(_ layout: Layout, _ b: Batch) -> String {
        var t = "\(b.state.rawValue), attempt \(b.attempt)"
        if let r = b.lastReason { t += ": " + r }
        guard b.state == .failed || b.state == .retryWait || b.state == .blocked else { return t }
        if let first = BatchPage.errors(layout, b.id, attempt: b.attempt).first { t += " — " + first.message }
        return t
    }
}
