import AgentWatcher
import WatcherCore
import WatcherSystem

/// `/api/log/RUN/PHASE/K/N`: an attempt's agent log, live. Server-Sent Events whose `data` is
/// the new text and whose `id` is the file offset after it, so a reconnect (`Last-Event-ID`,
/// or `?from=OFFSET` for the size the page already shows) goes on where it stopped. Woken by
/// inotify on that file only; the page appends the text as text.
extension DashboardServer {
    /// Bytes read from a log per wake-up and stream; a stream further behind is dropped.
    static let logChunk = 256 * 1024

    func startLogStream(_ r: HTTPRequest, id: BatchID, attempt: Int, on c: DashboardConnection) {
        guard streamSlotFree(c) else { return }
        let path = layout.agentLog(id, attempt: attempt)
        guard FileSystem.exists(path) else {
            return respond(c, .error(404, "attempt \(attempt) of \(id) has no agent log"), keepAlive: r.keepAlive)
        }
        let from = Int(r.header("last-event-id") ?? r.queryValue("from") ?? "0") ?? 0
        do {
            c.logTail = try agentLogs.follow(path, from: max(0, from), fd: c.fd)
        } catch {
            return respond(c, .error(500, "cannot follow \(path): \(error)"), keepAlive: false)
        }
        beginStream(c, comment: "agent log \(attempt) of \(id)")
        pumpLog(c)
    }

    /// Agent logs were written: each stream on them sends what is new.
    func followAgentLogs() {
        let fds: Set<Int32>
        do { fds = try agentLogs.changed() } catch {
            Console.error("agent-watcher dashboard: reading agent-log notifications: \(error)")
            return
        }
        for fd in fds { if let c = connections[fd] { pumpLog(c) } }
    }

    /// Sends the stream's file from its offset to the end (whole UTF-8 scalars only).
    func pumpLog(_ c: DashboardConnection) {
        guard var tail = c.logTail else { return }
        do {
            while c.backlog < 8 << 20 {
                let bytes = try AgentLogStreams.read(&tail, limit: DashboardServer.logChunk)
                guard let (frame, used) = SSEText.next(bytes[...], offset: tail.offset) else { break }
                c.send(frame)
                tail.offset += used
                if bytes.count < DashboardServer.logChunk { break }
            }
        } catch {
            let why = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
            c.send(Array(": cannot read \(tail.path): \(why)\n\n".utf8))
        }
        c.logTail = tail
        if c.backlog >= 8 << 20 { return close(c) } // a client that stopped reading
        flush(c)
    }
}
