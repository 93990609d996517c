import Glibc
import WatcherCore
import WatcherSystem

/// Reads `logs/events.jsonl` from an offset on, waking on inotify writes to the log (never
/// polling), until a record matches or a deadline passes.
public final class LogFollower {
    let layout: Layout
    let inotify: Inotify
    public private(set) var offset: Int
    var pending: [UInt8] = []

    /// Wakes only for the event log and the pid file (`onlyLogAndPid`): the folder is watched
    /// for files created, renamed in or removed, the log itself for writes, so writes to any
    /// other file (the lock, `watcher.log`) wake nothing.
    let onlyLogAndPid: Bool

    /// Starts at the log's current end (or at `offset`).
    public init(layout: Layout, fromStart: Bool = false, onlyLogAndPid: Bool = false) throws {
        self.layout = layout
        self.onlyLogAndPid = onlyLogAndPid
        try FileSystem.createDirectory(layout.logs)
        inotify = try Inotify()
        offset = fromStart || !FileSystem.exists(layout.eventLog) ? 0 : Int(try FileSystem.stat(layout.eventLog).size)
        if onlyLogAndPid {
            _ = try inotify.addWatch(layout.logs, mask: [.create, .movedTo, .delete, .movedFrom])
            try watchLogFile()
        } else {
            _ = try inotify.addWatch(layout.logs, mask: [.modify, .create, .movedTo, .closeWrite])
        }
    }

    /// Watches the log file itself for writes (again after it was created or replaced).
    func watchLogFile() throws {
        guard FileSystem.exists(layout.eventLog) else { return }
        _ = try inotify.addWatch(layout.eventLog, mask: [.modify])
    }

    /// New complete lines since the last call (a damaged line is returned as nil).
    public func readNew() throws -> [(line: [UInt8], record: EventRecord?)] {
        guard FileSystem.exists(layout.eventLog) else { return [] }
        let fd = try FileSystem.openRegular(layout.eventLog) // a FIFO planted there is never waited on
        defer { _ = try? fd.close() } // read-only descriptor: a failed close loses nothing
        if Int(try fd.stat().size) < offset { offset = 0; pending = [] } // cut or replaced
        try fd.seek(to: Int64(offset))
        let bytes = try fd.readAll()
        offset += bytes.count
        pending += bytes
        var out: [(line: [UInt8], record: EventRecord?)] = []
        var start = 0 // lines are cut off once at the end: a long log read from the start stays linear
        while let nl = pending[start...].firstIndex(of: 0x0A) {
            let line = Array(pending[start..<nl])
            start = nl + 1
            let ok = EventRecord.checksumMatches(line[...])
            out.append((line, ok ? try? EventRecord.decode(line[...]) : nil)) // nil: shown as damaged
        }
        pending.removeSubrange(..<start)
        return out
    }

    /// The inotify descriptor to poll alongside others; call `readNew()` when it is readable.
    public var fileDescriptor: Int32 { inotify.fileDescriptor }

    /// Clears pending notifications (after a poll said the descriptor is readable).
    public func clearNotifications() throws { _ = try inotify.readEvents() }

    /// Blocks until a log write (or `timeoutMilliseconds`, -1 = forever). Returns false on timeout.
    public func waitForWrite(timeoutMilliseconds: Int32) throws -> Bool {
        let ready = try Poller.wait([inotify.fileDescriptor], timeoutMilliseconds: timeoutMilliseconds)
        if ready.isEmpty { return false }
        let events = try inotify.readEvents()
        if onlyLogAndPid, events.contains(where: { $0.name == "events.jsonl" && ($0.mask.contains(.create) || $0.mask.contains(.movedTo)) }) {
            try watchLogFile()
        }
        return true
    }

    /// Waits for the first record satisfying `match`, at most `seconds`.
    public func wait(seconds: Double, for match: (EventRecord) -> Bool) throws -> EventRecord? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        while true {
            for (_, r) in try readNew() { if let r, match(r) { return r } }
            let now = Clock.monotonicNanoseconds()
            guard now < deadline else { return nil }
            _ = try waitForWrite(timeoutMilliseconds: Int32((deadline - now) / 1_000_000) + 1)
        }
    }
}

/// The CLI's side of control messages: write one into `mailbox/control/` (tmp/ then rename
/// into new/) and wait for the daemon's `control.applied` or `control.rejected` with its id.
public struct ControlClient {
    public let layout: Layout

    public init(layout: Layout) { self.layout = layout }

    /// The pid of the daemon holding the root's lock, or nil when none runs. A reader's check:
    /// it neither takes the lock nor writes any file (see `FileLock.holder`).
    public func runningDaemon() throws -> pid_t? {
        try FileLock.holder(layout.lockFile)
    }

    public struct NotRunning: Error, CustomStringConvertible {
        public var root: String
        public var description: String {
            "no agent-watcher daemon is running on \(root); start one with 'agent-watcher run --pipeline FILE --daemon'"
        }
    }

    public struct NoAnswer: Error, CustomStringConvertible {
        public var id: String
        public var seconds: Double
        public var description: String { "the daemon did not answer control message \(id) within \(Int(seconds)) s" }
    }

    /// Sends `fields` (plus a fresh `id`) and returns the daemon's answer.
    public func send(_ fields: [(String, String)], waitSeconds: Double = 30) throws -> EventRecord {
        guard try runningDaemon() != nil else { throw NotRunning(root: layout.root) }
        let (s, us) = Clock.realtime()
        let id = "cli-\(getpid())-\(s)\(us)"
        let follower = try LogFollower(layout: layout)
        try drop(fields, id: id)
        guard let answer = try follower.wait(seconds: waitSeconds, for: { ControlClient.isAnswer($0, to: id) })
        else { throw NoAnswer(id: id, seconds: waitSeconds) }
        return answer
    }

    /// Writes the control message `fields` plus `id` into `control/tmp/` and renames it into
    /// `control/new/`, without waiting (the dashboard waits on its own log follower).
    public func drop(_ fields: [(String, String)], id: String) throws {
        var json = "{"
        for (k, v) in fields + [("id", ControlClient.string(id))] {
            if json.count > 1 { json += "," }
            json += String(decoding: JSONText.quoted(k), as: UTF8.self) + ":" + v
        }
        json += "}\n"
        try FileSystem.createDirectory(layout.control + "/tmp")
        try FileSystem.createDirectory(layout.control + "/new")
        let tmp = layout.control + "/tmp/\(id).json"
        try AtomicFile.replace(tmp, with: Array(json.utf8))
        try FileSystem.rename(tmp, layout.control + "/new/\(id).json")
    }

    /// Whether `r` is the daemon's answer to control message `id`.
    public static func isAnswer(_ r: EventRecord, to id: String) -> Bool {
        (r.event.event == EventName.controlApplied || r.event.event == EventName.controlRejected
            || r.event.event == EventName.fileRejected) && (r.event.string("id") == id || r.event.string("from")?.hasSuffix("/\(id).json") == true)
    }

    public static func string(_ s: String) -> String { String(decoding: JSONText.quoted(s), as: UTF8.self) }
}
