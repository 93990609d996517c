import AgentWatcher
import Glibc
import WatcherCore
import WatcherSystem

/// The dashboard: HTTP/1.1 on one thread, sleeping in `poll()` on the listening socket, the
/// event log's inotify descriptor and the clients; woken only by them or by a client's
/// deadline. A reader: it follows the log and changes state only by dropping control messages.
public final class DashboardServer {
    let options: DashboardOptions
    let layout: Layout
    let socket: ListeningSocket
    let log: DashboardLog
    let token: String
    let guard_: RequestGuard
    let app: DashboardApp
    let agentLogs: AgentLogStreams
    var connections: [Int32: DashboardConnection] = [:]
    var controlCounter = 0
    let limits = HTTPRequestParser.Limits()

    public init(options: DashboardOptions) throws {
        try options.check()
        self.options = options
        layout = Layout(root: options.root)
        log = try DashboardLog(layout: layout)
        socket = try ListeningSocket(host: options.host, port: options.port)
        token = try DashboardTokenFile.create(in: layout.logs)
        guard_ = RequestGuard(listenHost: options.host, port: socket.port, token: token)
        app = DashboardApp(layout: layout, log: log)
        agentLogs = try AgentLogStreams()
    }

    public var port: Int { socket.port }
    public var url: String { "http://\(options.host):\(socket.port)/?token=\(token)" }

    /// Serves until the process is stopped. Errors of one client close that client only.
    public func run() throws -> Never {
        while true {
            var fds = [pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: log.fileDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: agentLogs.fileDescriptor, events: Int16(POLLIN), revents: 0)]
            for c in connections.values {
                var ev = Int16(POLLIN)
                if c.hasOutput { ev |= Int16(POLLOUT) }
                fds.append(pollfd(fd: c.fd, events: ev, revents: 0))
            }
            let n = poll(&fds, nfds_t(fds.count), Poller.timeout(untilMonotonic: nextDeadline()))
            if n < 0 && errno != EINTR { throw SystemError(operation: "poll", errno: Errno(rawValue: errno)) }
            let now = Clock.monotonicNanoseconds()
            if fds[1].revents != 0 { followLog() }
            if fds[2].revents != 0 { followAgentLogs() }
            for p in fds.dropFirst(3) where p.revents != 0 {
                guard let c = connections[p.fd] else { continue }
                serve(c, readable: p.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0, now: now)
                if p.revents & Int16(POLLOUT) != 0 { refillLog(c) }
            }
            // After the clients: connections that closed meanwhile free their places first.
            if fds[0].revents != 0 { acceptAll(now: now) }
            expire(now: Clock.monotonicNanoseconds())
        }
    }

    func nextDeadline() -> UInt64? {
        connections.values.compactMap { c in [c.requestDeadline, c.pendingControl?.deadline, c.lingerUntil].compactMap { $0 }.min() }.min()
    }

    func acceptAll(now: UInt64) {
        while let fd = socket.accept() {
            if connections.count >= options.maxConnections {
                // Refused at once, with a status, so the listen queue never fills up.
                let busy = HTTPResponse.error(503, "too many connections (\(options.maxConnections)); try again").rendered(keepAlive: false)
                _ = try? ListeningSocket.write(fd, busy[...]) // a best-effort courtesy to a client being refused
                Glibc.close(fd)
                continue
            }
            connections[fd] = DashboardConnection(fd: fd, deadline: now + UInt64(options.headerTimeoutMilliseconds) * 1_000_000)
        }
    }

    func close(_ c: DashboardConnection) {
        if let tail = c.logTail { agentLogs.stop(tail, fd: c.fd) }
        connections[c.fd] = nil
        Glibc.close(c.fd)
    }

    func serve(_ c: DashboardConnection, readable: Bool, now: UInt64) {
        do {
            if readable {
                guard let bytes = try ListeningSocket.read(c.fd) else { return flush(c) }
                if bytes.isEmpty { return close(c) }
                if c.lingerUntil != nil { return } // discarded
                if !c.isStream { c.input += bytes }
                process(c, now: now)
            }
            flush(c)
        } catch {
            close(c)
        }
    }

    func flush(_ c: DashboardConnection) {
        do {
            while c.hasOutput {
                let n = try ListeningSocket.write(c.fd, c.output[c.outputOffset...])
                if n == 0 { break }
                c.outputOffset += n
            }
        } catch {
            return close(c)
        }
        if !c.hasOutput && c.closeAfterOutput && c.lingerUntil == nil {
            // Lingering close: the client may still be sending a body we refused; reading it
            // until EOF lets it read our answer instead of a reset.
            shutdown(c.fd, Int32(SHUT_WR))
            c.lingerUntil = Clock.monotonicNanoseconds() + 2_000_000_000
            c.requestDeadline = nil
        }
    }

    func expire(now: UInt64) {
        for c in Array(connections.values) {
            if let t = c.lingerUntil, t <= now { close(c); continue }
            if let p = c.pendingControl, p.deadline <= now {
                c.pendingControl = nil
                respond(c, .error(504, "the daemon did not answer control message \(p.id) within \(Int(options.controlTimeoutSeconds)) s"), keepAlive: p.keepAlive)
                process(c, now: now)
                flush(c)
                continue
            }
            if let t = c.requestDeadline, t <= now, c.pendingControl == nil {
                if c.input.isEmpty && !c.hasOutput { close(c); continue } // an idle keep-alive connection
                c.input = []
                respond(c, .error(408, "the request did not arrive within \(options.headerTimeoutMilliseconds) ms"), keepAlive: false)
                flush(c)
            }
        }
    }

    /// Parses and answers every complete request in the input, in order.
    func process(_ c: DashboardConnection, now: UInt64) {
        while !c.isStream && c.pendingControl == nil && !c.closeAfterOutput {
            switch HTTPRequestParser.parse(c.input[...], limits: limits) {
            case .incomplete:
                return
            case .failure(let f):
                c.input = []
                respond(c, .error(f.status, f.message), keepAlive: false)
                return
            case .request(let r, let used):
                c.input.removeFirst(used)
                c.requestDeadline = now + UInt64(options.headerTimeoutMilliseconds) * 1_000_000
                handle(r, on: c)
            }
        }
    }

    func respond(_ c: DashboardConnection, _ response: HTTPResponse, keepAlive: Bool, head: Bool = false) {
        c.send(head ? response.head(keepAlive: keepAlive) : response.rendered(keepAlive: keepAlive))
        if !keepAlive { c.closeAfterOutput = true }
    }

    func handle(_ r: HTTPRequest, on c: DashboardConnection) {
        var keepAlive = r.keepAlive
        switch guard_.check(r) {
        case .refused(let status, let message):
            return respond(c, .error(status, message), keepAlive: keepAlive && status != 421)
        case .setCookie(let location):
            var res = HTTPResponse(status: 303, headers: [.init("Location", location), DashboardToken.setCookie(token)])
            res.body = Array("see \(location)\n".utf8)
            return respond(c, res, keepAlive: keepAlive)
        case .allowed:
            break
        }
        switch DashboardRoute.resolve(method: r.method, path: r.path) {
        case .failure(let f):
            if f.status == 405 { keepAlive = false }
            respond(c, .error(f.status, f.message), keepAlive: keepAlive)
        case .success(.apiStream):
            startStream(r, on: c)
        case .success(.apiLog(let id, let attempt)):
            startLogStream(r, id: id, attempt: attempt, on: c)
        case .success(.apiControl):
            control(r, on: c)
        case .success(let route):
            let response: HTTPResponse
            do { response = try app.respond(route, r) } catch { response = .error(500, "\(error)") }
            respond(c, response, keepAlive: keepAlive, head: r.method == "HEAD")
        }
    }
}
