import AgentWatcher
import Glibc
import WatcherCore
import WatcherSystem

/// `send --wait [--timeout S]`: after sending, waits (inotify on the sender's maildir, no
/// polling) until a message `reply_to` the sent one is in `agents/<from>/new/` (or dropped in
/// `agents/<from>/`), prints its body (a string as it is, anything else as JSON), moves it to
/// `cur/` (the broker logs its acknowledgement) and exits 0 for a `response`, 3 for anything
/// else (an `error` reply, a stuck thread's notice); 2 when `timeout` seconds pass first.
enum SendWait {
    static let timedOut: Int32 = 2
    static let notAnAnswer: Int32 = 3

    static func wait(for id: String, sender: String, layout: Layout, timeoutSeconds: Double?) throws -> Int32 {
        let folders = [layout.agentFolder(sender), layout.agentNew(sender)]
        for dir in folders + [layout.agentCur(sender)] { try FileSystem.createDirectory(dir) }
        let inotify = try Inotify()
        defer {
            do { try inotify.close() } catch { Console.error("agent-watcher: closing inotify: \(error)") }
        }
        // Watches first, then a look: a reply that came before the watch is seen by the look.
        for dir in folders { _ = try inotify.addWatch(dir, mask: [.movedTo, .closeWrite, .onlyDir]) }
        let deadline = timeoutSeconds.map { Clock.monotonicNanoseconds() + UInt64(max(0, $0) * 1e9) }
        while true {
            for dir in folders {
                if let (path, reply) = try findReply(to: id, in: dir) { return try take(reply, at: path, layout: layout) }
            }
            var timeout: Int32 = -1
            if let deadline {
                let now = Clock.monotonicNanoseconds()
                guard now < deadline else {
                    Console.error("agent-watcher: send --wait: no reply to \(id) within \(timeoutSeconds ?? 0) s")
                    return timedOut
                }
                timeout = Int32(min(UInt64(Int32.max), (deadline - now) / 1_000_000 + 1))
            }
            _ = try Poller.wait([inotify.fileDescriptor], timeoutMilliseconds: timeout)
            _ = try inotify.readEvents()
        }
    }

    /// The first envelope in `folder` that replies to `id`.
    static func findReply(to id: String, in folder: String) throws -> (String, AgentMessage)? {
        for entry in try FileSystem.listDirectory(folder).sorted(by: { $0.name < $1.name })
        where entry.kind == .regular && entry.name.hasSuffix(".json") && !Layout.isStagingName(entry.name) {
            let path = folder + "/" + entry.name
            let bytes: [UInt8]
            do { bytes = try FileSystem.readFile(path) } catch let e as SystemError where e.errno == .noSuchFile {
                continue // the daemon moved it into new/ meanwhile: seen there
            }
            // A file still being written (or another agent's business) is not the reply.
            guard case .success(let m) = AgentMessage.parse(bytes: bytes), m.replyTo == id else { continue }
            return (path, m)
        }
        return nil
    }

    static func take(_ reply: AgentMessage, at path: String, layout: Layout) throws -> Int32 {
        let body = reply.body ?? .null
        Console.out(body.stringValue ?? String(decoding: body.serialized(), as: UTF8.self))
        let dest = layout.agentCur(reply.to) + "/" + basename(path)
        do { try FileSystem.renameNoReplace(path, dest) } catch let e as SystemError where e.errno == .noSuchFile {
            // The daemon moved it into new/ as it was read: take it from there.
            try FileSystem.renameNoReplace(layout.agentNew(reply.to) + "/" + basename(path), dest)
        }
        return reply.type == .response ? 0 : notAnAnswer
    }

    static func basename(_ path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }
}
