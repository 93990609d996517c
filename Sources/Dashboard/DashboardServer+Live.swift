import AgentWatcher
import Glibc
import WatcherCore
import WatcherSystem

/// The live parts: the Server-Sent Events stream and control messages.
extension DashboardServer {
    /// `GET /api/stream`: every record after `Last-Event-ID` (or `?since=`), then each new one
    /// as it is logged: `id: <seq>`, `data: <the log line>`.
    func startStream(_ r: HTTPRequest, on c: DashboardConnection) {
        guard streamSlotFree(c) else { return }
        let since = UInt64(r.header("last-event-id") ?? r.queryValue("since") ?? "") ?? log.lastSeq
        beginStream(c, comment: "stream of logs/events.jsonl")
        for e in log.entries(after: since) { c.send(DashboardServer.frame(e)) }
    }

    /// Whether another stream may start; if not, `c` is answered 503.
    func streamSlotFree(_ c: DashboardConnection) -> Bool {
        guard connections.values.filter(\.isStream).count < options.maxStreams else {
            respond(c, .error(503, "too many live streams (\(options.maxStreams))"), keepAlive: false)
            return false
        }
        return true
    }

    /// Answers `c` with the head of an event stream; from now on it only receives pushes.
    func beginStream(_ c: DashboardConnection, comment: String) {
        var res = HTTPResponse(status: 200, contentType: "text/event-stream; charset=utf-8")
        res.streamed = true
        respond(c, res, keepAlive: true)
        c.isStream = true
        c.requestDeadline = nil
        c.input = []
        c.send(Array("retry: 1000\n: \(comment)\n\n".utf8))
    }

    static func frame(_ e: DashboardLog.Entry) -> [UInt8] {
        Array("id: \(e.record.seq)\ndata: ".utf8) + e.line + Array("\n\n".utf8)
    }

    /// New log records: to every stream, and to the control requests they answer.
    func followLog() {
        let fresh: ArraySlice<DashboardLog.Entry>
        do {
            try log.follower.clearNotifications()
            fresh = try log.readNew()
        } catch {
            Console.error("agent-watcher dashboard: reading \(layout.eventLog): \(error)")
            return
        }
        guard !fresh.isEmpty else { return }
        let now = Clock.monotonicNanoseconds()
        for c in Array(connections.values) {
            if c.isStream {
                for e in fresh { c.send(DashboardServer.frame(e)) }
                if c.backlog > 8 << 20 { close(c); continue } // a client that stopped reading
                flush(c)
            } else if let p = c.pendingControl, let answer = fresh.first(where: { ControlClient.isAnswer($0.record, to: p.id) }) {
                c.pendingControl = nil
                let applied = answer.record.event.event == EventName.controlApplied
                var res = HTTPResponse(status: applied ? 200 : 409, contentType: "application/json", body: answer.line + [0x0A])
                res.headers.append(.init("X-Control-Id", p.id))
                respond(c, res, keepAlive: p.keepAlive)
                process(c, now: now)
                flush(c)
            }
        }
    }

    /// `POST /api/control`: the body is a control message (`{"command":"retry","run":…}`);
    /// it is checked, given an id and dropped into `mailbox/control/` exactly as the CLI
    /// does; the answer is the daemon's `control.applied` (200) or `control.rejected` (409).
    func control(_ r: HTTPRequest, on c: DashboardConnection) {
        guard r.header("content-type")?.lowercased().hasPrefix("application/json") == true else {
            return respond(c, .error(415, "send the control message as application/json"), keepAlive: r.keepAlive)
        }
        let value: JSONValue
        do { value = try JSONParser.parse(r.body) } catch {
            return respond(c, .error(400, "the body is not JSON: \(error)"), keepAlive: r.keepAlive)
        }
        let command: ControlCommand
        switch ControlCommand.parse(value) {
        case .failure(let e): return respond(c, .error(400, e.message), keepAlive: r.keepAlive)
        case .success(let cmd): command = cmd
        }
        guard log.daemonPID() != nil else {
            return respond(c, .error(503, "no agent-watcher daemon is running on \(layout.root); nothing was changed"), keepAlive: r.keepAlive)
        }
        var fields: [(String, String)] = [("command", ControlClient.string(command.verb.rawValue)), ("run", ControlClient.string(command.run))]
        if let p = command.phase, let b = command.batch {
            fields.append(("phase", ControlClient.string(p)))
            fields.append(("batch", String(b)))
        }
        if let m = command.max { fields.append(("max", String(m))) }
        if command.force { fields.append(("force", "true")) }
        controlCounter += 1
        let (s, us) = Clock.realtime()
        let id = "dashboard-\(getpid())-\(s)\(us)-\(controlCounter)"
        do {
            try ControlClient(layout: layout).drop(fields, id: id)
        } catch {
            return respond(c, .error(500, "could not write the control message: \(error)"), keepAlive: r.keepAlive)
        }
        c.pendingControl = (id, Clock.monotonicNanoseconds() + UInt64(options.controlTimeoutSeconds * 1e9), r.keepAlive)
    }
}
