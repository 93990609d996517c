import AgentWatcher
import WatcherCore

/// `/`: the daemon, the needs-you list (failed and blocked batches, paused runs with their
/// reason, rejected files), and each run with one progress bar per phase.
enum OverviewPage {
    /// `state`: `StatusReport.replay(records)`, made once by the caller (the log is replayed once per request at most).
    static func render(layout: Layout, records: [EventRecord], state: WatcherState, turns: TurnSummary, daemonPID: Int32?, now: Double,
                       lastSeq: UInt64) -> String {
        let h = PageFrame.h, a = PageFrame.a
        let report = StatusReport.build(records, replayed: state, daemonRunning: daemonPID != nil, now: now)
        let costs = CostReport.build(records, replayed: state)
        var s = "<h1>Overview</h1><section class=\"daemon\"><h2>Daemon</h2><p>"
        if let pid = daemonPID {
            s += "<span id=\"daemon\" class=\"up\" data-up=\"true\">up</span> · pid \(pid)"
            if let started = records.last(where: { $0.event.event == EventName.watcherStarted }),
               let t0 = EventFormatter.seconds(started.ts), let t1 = records.last.flatMap({ EventFormatter.seconds($0.ts) }) {
                s += " · up since \(h(started.ts)) (\(PageFrame.duration(t1 - t0)) to the last record)"
            }
        } else {
            s += "<span id=\"daemon\" class=\"down\" data-up=\"false\">down</span> (no live process in logs/watcher.pid)"
        }
        s += " · root <code>\(h(layout.root))</code> · last record #<span id=\"last-seq\">\(lastSeq)</span></p></section>"

        // Needs you.
        var needs: [String] = []
        for run in report.runs where run.paused {
            needs.append("<li class=\"paused\">run <a href=\"/run/\(a(run.run))\">\(h(run.run))</a> paused: <b>\(h(run.pauseReason ?? "operator"))</b>\(run.pauseMessage.map { " — " + h($0) } ?? "")</li>")
        }
        for b in state.batches.values.sorted(by: { $0.id < $1.id }) where b.state == .failed || b.state == .blocked {
            let id = b.id
            needs.append("<li class=\"need-\(b.state.rawValue)\"><a href=\"/batch/\(a(id.run))/\(a(id.phase))/\(id.index)\">\(h(id.run)) phase \(h(id.phase)) batch \(id.index)</a> \(b.state.rawValue) after \(b.attempt) attempt(s)\(b.lastReason.map { ": " + h($0) } ?? "")</li>")
        }
        for t in turns.threads where t.stuck {
            needs.append("<li class=\"stuck\">thread <a href=\"/messages?q=\(a(t.thread))\"><code>\(h(t.thread))</code></a> stuck: its responder turns reached the limit (see <code>logs/stuck/</code>)</li>")
        }
        for r in turns.responders where r.state == "paused" {
            needs.append("<li class=\"paused\">responder <b>\(h(r.name))</b> paused after \(r.consecutiveErrors) failed turns in a row: <code>agent-watcher resume --responder \(h(r.name))</code></li>")
        }
        for r in records.suffix(20_000) where r.event.event == EventName.fileRejected {
            needs.append("<li class=\"rejected\">file rejected: <code>\(h(r.event.string("path") ?? r.event.string("from") ?? "?"))</code> (\(h(r.event.reason ?? "")))</li>")
        }
        s += "<section><h2>Needs you <span class=\"count\" id=\"needs-count\">\(needs.count)</span></h2>"
        s += needs.isEmpty ? "<p class=\"quiet\">nothing</p>" : "<ul class=\"needs\" id=\"needs\">" + needs.prefix(200).joined() + (needs.count > 200 ? "<li>… \(needs.count - 200) more</li>" : "") + "</ul>"
        s += "</section><section><h2>Runs</h2>"
        if report.runs.isEmpty { s += "<p class=\"quiet\">no runs in the log yet</p>" }
        for run in report.runs {
            var label = run.completed ? "completed" : run.paused ? "paused" : "running"
            if let e = run.elapsedSeconds { label += " · elapsed \(PageFrame.duration(e))" } // first spawn to last merge, or now
            if let eta = run.etaSeconds, !run.completed, run.remainingBatches > 0 { label += " · about \(PageFrame.duration(eta)) left" }
            if run.retries > 0 { label += " · \(run.retries) retries" }
            let cost = costs.run(run.run)
            if let c = cost, c.totals.attempts > 0 {
                label += " · cost $\(CostFormat.usd(c.totals.costUSD))\(c.totals.estimated ? " (estimated)" : "")"
                if let p = c.projection, !run.completed { label += ", projected $\(CostFormat.usd(p.totalUSD))" }
            }
            s += "<article class=\"run\" data-run=\"\(a(run.run))\"><h3><a href=\"/run/\(a(run.run))\">\(h(run.run))</a> <small>\(h(label))</small> <a class=\"small\" href=\"/timeline/\(a(run.run))\">timeline</a></h3><table class=\"phases\">"
            for p in run.phases {
                let merged = p.count(.merged)
                let pct = p.total == 0 ? 0 : Int((Double(merged) * 100 / Double(p.total)).rounded(.down))
                let pid = "\(run.run)--\(p.phase)"
                s += "<tr><th>phase \(h(p.phase))</th><td><progress id=\"bar-\(a(pid))\" value=\"\(merged)\" max=\"\(p.total)\"></progress></td>"
                s += "<td class=\"num\" id=\"fig-\(a(pid))\" data-merged=\"\(merged)\" data-total=\"\(p.total)\">\(merged)/\(p.total) · \(pct)%</td>"
                var times = ""
                if let e = p.elapsedSeconds { times += " · elapsed \(PageFrame.duration(e))" }
                if let r = p.remainingSeconds, r > 0, let e = p.elapsedSeconds { times += " · estimated total \(PageFrame.duration(e + r)), \(PageFrame.duration(r)) left" }
                if let pc = cost?.phases.first(where: { $0.phase == p.phase }), pc.totals.attempts > 0 { times += " · $\(CostFormat.usd(pc.totals.costUSD))" }
                s += "<td class=\"small\">running \(p.running) · retrying \(p.count(.retryWait)) · failed \(p.count(.failed)) · blocked \(p.count(.blocked))\(times)</td></tr>"
            }
            s += "</table></article>"
        }
        s += "</section>"
        return PageFrame.render(title: "overview", page: "overview", boot: PageFrame.boot("overview", lastSeq: lastSeq), body: s)
    }
}
