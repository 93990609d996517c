import AgentWatcher
import WatcherCore
import WatcherSystem

/// Answers the routes that are plain request/response: pages, assets and the JSON API.
/// Everything is computed from the event log (and, for a batch, its files) at request time.
final class DashboardApp {
    let layout: Layout
    let log: DashboardLog

    init(layout: Layout, log: DashboardLog) {
        self.layout = layout
        self.log = log
    }

    struct NotFound: Error, CustomStringConvertible { var description: String }

    func respond(_ route: DashboardRoute, _ r: HTTPRequest) throws -> HTTPResponse {
        if case .asset(let name) = route {
            let (type, text) = name == "app.css" ? ("text/css; charset=utf-8", DashboardAssets.css)
                : name == "icon.svg" ? ("image/svg+xml", DashboardAssets.icon) : ("text/javascript; charset=utf-8", DashboardAssets.js)
            return HTTPResponse(status: 200, contentType: type, body: Array(text.utf8), headers: [.init("Cache-Control", "no-cache")])
        }
        // Served from the lines as read, without a replay.
        if route == .apiEvents { return events(since: UInt64(r.queryValue("since") ?? "0") ?? 0) }
        // One replay of the log serves every request until the log changes.
        let snapshot = log.snapshot()
        let records = snapshot.records, state = snapshot.state, turns = snapshot.turns
        switch route {
        case .overview:
            return .html(OverviewPage.render(layout: layout, records: records, state: state, turns: turns, daemonPID: log.daemonPID(),
                                             now: DashboardApp.now(), lastSeq: log.lastSeq))
        case .run(let run):
            guard let plan = state.plans[run] else { return notFound("no run \(run) in the event log") }
            return .html(RunPage.render(layout: layout, state: state, plan: plan, spawned: AttemptSpans.lastSpawn(records),
                                        now: DashboardApp.now(), lastSeq: log.lastSeq))
        case .batch(let id):
            guard let b = state.batches[id] else { return notFound("no batch \(id) in the event log") }
            return .html(BatchPage.render(layout: layout, batch: b, records: records.filter { $0.event.batchID == id }, lastSeq: log.lastSeq))
        case .timeline(let run):
            guard let plan = state.plans[run] else { return notFound("no run \(run) in the event log") }
            return .html(TimelinePage.render(plan: plan, records: records, lastSeq: log.lastSeq))
        case .messages:
            let found = try MessageFiles.collect(layout)
            return .html(MessagesPage.render(messages: MessageThreads.collect(records: records, files: found.files),
                                             turns: turns, filter: MessagesView.Filter(query: r.query),
                                             problems: found.problems, lastSeq: log.lastSeq))
        case .events:
            return .html(EventsPage.render(entries: log.entries.suffix(1000), lastSeq: log.lastSeq))
        case .apiStatus:
            // The CLI's `status --json` shape (README "JSON output"), cost included.
            let now = DashboardApp.now()
            return .json(StatusReport.build(records, replayed: state, daemonRunning: log.daemonPID() != nil, now: now)
                .statusJSON(root: layout.root, generatedAt: now, costs: CostReport.build(records, replayed: state)))
        case .apiBatch(let id):
            guard let b = state.batches[id] else { return .error(404, "no batch \(id) in the event log") }
            // `show RUN PHASE BATCH --json`'s shape.
            let usage = CostReport.build(records, replayed: state).run(id.run)?.batches.first { $0.id == id }?.attempts ?? []
            return .json(OutputJSON.batch(b, attempts: try BatchAttempts.collect(of: b, records: records, layout: layout, lines: BatchAttempts.defaultLogLines).map(\.attempt),
                                          usage: usage))
        case .apiMessages:
            let found = try MessageFiles.collect(layout)
            // `messages --json`'s shape: the threads (stuck first) with their responders' turns.
            return .json(OutputJSON.threads(TurnSummary.stuckFirst(MessageThreads.build(MessageThreads.collect(records: records, files: found.files)), turns),
                                            turns: turns))
        case .asset, .apiEvents, .apiStream, .apiLog, .apiControl:
            return .error(500, "served by the connection loop")
        }
    }

    /// `/api/events?since=SEQ`: at most 5,000 records after `SEQ`, as logged.
    func events(since: UInt64) -> HTTPResponse {
        let limit = 5000
        let slice = log.entries(after: since)
        var body = Array("{\"last_seq\":\(log.lastSeq),\"more\":\(slice.count > limit),\"events\":[".utf8)
        for (i, e) in slice.prefix(limit).enumerated() {
            if i > 0 { body.append(0x2C) }
            body += e.line
        }
        body += Array("]}\n".utf8)
        return HTTPResponse(status: 200, contentType: "application/json", body: body)
    }

    /// The wall clock, seconds since the epoch.
    static func now() -> Double {
        let (sec, us) = Clock.realtime()
        return Double(sec) + Double(us) / 1e6
    }

    func notFound(_ message: String) -> HTTPResponse {
        .html(PageFrame.render(title: "not found", page: "none", boot: .object([]),
                               body: "<h1>Not found</h1><p>\(HTMLEscape.text(message))</p>"), status: 404)
    }
}
