import AgentWatcher
import WatcherCore
import WatcherSystem

/// `/api/log/RUN/PHASE/K/N`: an attempt's agent log, live. Server-Sent Events whose `data` is
/// the new text and whose `id` is the file offset after it, so a reconnect (`Last-Event-ID`,
/// or `?from=OFFSET` for the size the page already shows) goes on where it stopped. Woken by
/// inotify on that file only; the page appends the text as text.
extension DashboardServer {
    /// Bytes read from a log at a time.
    static let logChunk = 256 * 1024
    /// A stream reads more of its file only while less than this waits to be sent: a client
    /// that reads slowly (or a huge log) holds this much memory, no more; the rest is read
    /// as the client takes what is queued.
    static let logLowWater = 1 << 20

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
        var more = true
        while more && connections[c.fd] === c {
            more = false
            do {
                while c.backlog < DashboardServer.logLowWater {
                    let bytes = try AgentLogStreams.read(&tail, limit: DashboardServer.logChunk)
                    guard let (frame, used) = SSEText.next(bytes[...], offset: tail.offset) else { break }
                    c.send(frame)
                    tail.offset += used
                    if bytes.count < DashboardServer.logChunk { break } // caught up with the file
                    more = c.backlog >= DashboardServer.logLowWater
                }
            } catch {
                let why = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
                c.send(Array(": cannot read \(tail.path): \(why)\n\n".utf8))
            }
            c.logTail = tail
            flush(c)
            // Still queued: the client's next POLLOUT reads on (refillLog); else read on now.
            if c.backlog >= DashboardServer.logLowWater { break }
        }
    }

    /// After a write to a log stream's client: read on if what was queued has gone out.
    func refillLog(_ c: DashboardConnection) {
        guard c.logTail != nil, connections[c.fd] === c, c.backlog < DashboardServer.logLowWater else { return }
        pumpLog(c)
    }
}
