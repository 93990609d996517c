import AgentWatcher
import WatcherCore
import WatcherSystem

/// `/batch/RUN/PHASE/K`: every attempt (times, duration, exit status, failure class, errors
/// with their suggestions, the prompt, the agent log's tail), the batch's files in
/// `accepted/` and `rejected/`, and retry/skip/cancel.
enum BatchPage {
    static func render(layout: Layout, batch b: Batch, records: [EventRecord], lastSeq: UInt64) -> String {
        let h = PageFrame.h, a = PageFrame.a
        let id = b.id
        var s = "<h1><a href=\"/run/\(a(id.run))\">\(h(id.run))</a> · phase \(h(id.phase)) · batch \(id.index)</h1>"
        s += "<p>state <span id=\"batch-state\" class=\"cell st-\(b.state.rawValue)\" data-state=\"\(b.state.rawValue)\">\(b.state.rawValue)</span>"
        s += " · attempts used \(b.attempt)\(b.lastReason.map { " · last reason " + h($0) } ?? "")\(b.lastClass.map { " · class " + h($0.rawValue) } ?? "")</p>"
        let target = "data-run=\"\(a(id.run))\" data-phase=\"\(a(id.phase))\" data-batch=\"\(id.index)\""
        s += "<p class=\"actions\"><button id=\"retry\" data-cmd=\"retry\" \(target)>retry</button><button id=\"skip\" data-cmd=\"skip\" \(target)>skip</button>"
        s += "<button id=\"cancel\" data-cmd=\"cancel\" \(target)>cancel</button> <span id=\"answer\" class=\"answer\"></span></p>"
        let spans = AttemptSpans.collect(records)
        var follow: (attempt: Int, from: Int, live: Bool)?
        for span in spans.reversed() {
            let n = span.attempt
            s += "<section class=\"attempt\"><h2>attempt \(n) <span class=\"cell st-\(a(span.outcome))\">\(h(span.outcome))</span></h2><p>"
            s += "started \(h(span.startTS)) · last change \(h(span.endTS)) · \(PageFrame.duration(span.end - span.start))"
            if let p = span.pid { s += " · pid \(p)" }
            if let x = span.exitStatus { s += " · agent \(h(x))" }
            if let c = span.failureClass { s += " · class <b>\(h(c))</b>" }
            if let r = span.reason { s += " · reason \(h(r))" }
            s += "</p>"
            let (errs, problem) = errorsWithProblem(layout, id, attempt: n)
            if let problem { s += "<p class=\"error\">\(h(problem))</p>" }
            if !errs.isEmpty {
                s += "<h3>errors (\(errs.count))</h3><ul class=\"errors\">"
                for e in errs.prefix(100) {
                    s += "<li><code>\(h(e.type))</code> \(e.item.map { "<b>" + h($0) + "</b> " } ?? "")<span class=\"msg\">\(h(e.message))</span>\(e.suggestion.map { " <i>" + h($0) + "</i>" } ?? "")</li>"
                }
                s += "</ul>"
            }
            s += fileBlock("prompt", layout.promptFile(id, attempt: n), head: true)
            if n == spans.last?.attempt {
                let (block, end) = liveLog(layout.agentLog(id, attempt: n))
                s += block
                follow = (n, end, span.active)
            } else {
                s += fileBlock("agent log (tail)", layout.agentLog(id, attempt: n), head: false)
            }
            s += "</section>"
        }
        if spans.isEmpty { s += "<p class=\"quiet\">no attempt yet</p>" }
        s += "<section><h2>files</h2><ul>"
        for (folder, label) in [(layout.accepted(id.run), "accepted"), (layout.rejected(id.run), "rejected")] {
            for name in files(folder, prefix: "\(id.phase)_batch_\(id.index).") { s += "<li>\(label)/<code>\(h(name))</code></li>" }
        }
        s += "</ul></section><section><h2>events</h2><ol id=\"batch-events\" class=\"events\">"
        for r in records { s += "<li>#\(r.seq) \(h(EventFormatter.line(r)))</li>" }
        s += "</ol></section>"
        var extra: [(String, JSONValue)] = [("run", .string(id.run)), ("phase", .string(id.phase)), ("batch", .number(Double(id.index)))]
        if let f = follow {
            extra.append(("log", .object([("attempt", .number(Double(f.attempt))), ("from", .number(Double(f.from))), ("live", .bool(f.live))])))
        }
        let boot = PageFrame.boot("batch", lastSeq: lastSeq, extra)
        return PageFrame.render(title: "\(id.run) \(id.phase)/\(id.index)", page: "batch", boot: boot, body: s)
    }

    static func errors(_ layout: Layout, _ id: BatchID, attempt: Int) -> [ValidationError] {
        errorsWithProblem(layout, id, attempt: attempt).0
    }

    /// The validator's errors kept beside a rejected file, and why they could not be read.
    static func errorsWithProblem(_ layout: Layout, _ id: BatchID, attempt: Int) -> ([ValidationError], String?) {
        let path = layout.rejected(id.run) + "/\(id.phase)_batch_\(id.index).attempt-\(attempt).errors.json"
        guard FileSystem.exists(path) else { return ([], nil) }
        do {
            switch ValidationReport.parse(try FileSystem.readFile(path)) {
            case .success(let report): return (report.errors, nil)
            case .failure(let e): return ([], "\(path): \(e)")
            }
        } catch {
            return ([], "cannot read \(path): \(error)")
        }
    }

    /// The latest attempt's agent log: its tail (always a `<pre id="agent-log">`, empty while the
    /// file does not exist yet) and the file offset the live stream starts from.
    static func liveLog(_ path: String) -> (String, Int) {
        let title = "<summary>agent log (tail, live while the agent runs) <code>\(PageFrame.h(path))</code></summary>"
        guard FileSystem.exists(path) else { return ("<details open>\(title)<pre id=\"agent-log\" class=\"log\"></pre></details>", 0) }
        do {
            let (bytes, end) = try AgentLogStreams.tail(path, limit: 32 * 1024)
            return ("<details open>\(title)<pre id=\"agent-log\" class=\"log\">\(PageFrame.h(String(decoding: bytes, as: UTF8.self)))</pre></details>", end)
        } catch {
            return ("<p class=\"error\">agent log: \(PageFrame.h("\(error)"))</p><pre id=\"agent-log\" class=\"log\"></pre>", 0)
        }
    }

    static func fileBlock(_ title: String, _ path: String, head: Bool) -> String {
        guard FileSystem.exists(path) else { return "<p class=\"quiet\">\(PageFrame.h(title)): none</p>" }
        let limit = 32 * 1024
        do {
            let bytes = head ? Array(try FileSystem.readFile(path).prefix(limit)) : try FileSystem.readTail(path, from: 0, limit: limit)
            return "<details\(head ? "" : " open")><summary>\(PageFrame.h(title)) <code>\(PageFrame.h(path))</code></summary><pre>\(PageFrame.h(String(decoding: bytes, as: UTF8.self)))</pre></details>"
        } catch {
            return "<p class=\"error\">\(PageFrame.h(title)): \(PageFrame.h("\(error)"))</p>"
        }
    }

    static func files(_ folder: String, prefix: String) -> [String] {
        guard FileSystem.exists(folder) else { return [] }
        do {
            return try FileSystem.listDirectory(folder).map(\.name).filter { $0.hasPrefix(prefix) }.sorted()
        } catch {
            return ["(cannot list \(folder): \(error))"]
        }
    }
}
