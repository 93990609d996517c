import Glibc
import WatcherCore
import WatcherSystem

/// The event log was removed, moved or replaced under a running daemon.
public struct EventLogGone: Error, CustomStringConvertible {
    public var path: String
    public var removed: Bool
    public var description: String {
        "the event log \(path) was \(removed ? "removed" : "moved or replaced") while the daemon ran; stopping "
            + "(agents are stopped; put the log back, or start again on a fresh root)"
    }
}

/// Appends records to `logs/events.jsonl`: one `write()` per line, then one `fdatasync` for
/// the whole group before the caller carries out what the records announce.
///
/// Write now, sync later: records that announce nothing that cannot be redone (`sync: false`)
/// are written at once and made durable by the next group that syncs (one `fdatasync` covers
/// every write before it), or by ``syncPending()``. A record that announces an effect therefore
/// always makes every record before it durable too.
public final class EventLogWriter {
    let fd: FileDescriptor
    public let path: String
    public private(set) var nextSeq: UInt64
    /// Called with every record once it is durable (the demo prints from it).
    public var observer: ((EventRecord) -> Void)?
    /// Records written and not yet made durable (oldest first).
    private var unsynced: [EventRecord] = []
    /// Whether records were written that no `fdatasync` has covered yet.
    public var hasUnsynced: Bool { !unsynced.isEmpty }

    public init(path: String, nextSeq: UInt64) throws {
        self.path = path
        // Never through a link, never waiting on a FIFO (the start checked the name already).
        self.fd = try FileDescriptor.open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, mode: 0o644)
        self.nextSeq = nextSeq
    }

    /// Writes `events` (each stamped as it is written); with `sync`, makes them and every
    /// record written before them durable before it returns.
    @discardableResult
    public func append(_ events: [Event], sync: Bool = true) throws -> [EventRecord] {
        var records: [EventRecord] = []
        records.reserveCapacity(events.count)
        for e in events {
            let (s, us) = Clock.realtime()
            let r = EventRecord(seq: nextSeq, ts: Clock.iso8601(seconds: s, microseconds: us), event: e)
            try fd.writeAll(r.encoded())
            nextSeq += 1
            records.append(r)
        }
        unsynced += records
        if sync { try syncPending() }
        return records
    }

    public func append(_ event: Event) throws { try append([event]) }

    /// Makes every record written so far durable (one `fdatasync`), then shows them to the observer.
    public func syncPending() throws {
        guard !unsynced.isEmpty else { return }
        try fd.fdatasync()
        try checkStillInPlace()
        let done = unsynced
        unsynced.removeAll(keepingCapacity: true)
        if let observer { done.forEach(observer) }
    }

    /// The log written to must still be the file at `path`: one removed (`rm -rf logs/`), moved
    /// or replaced under the daemon is noticed at the next write, and the daemon stops rather
    /// than write into a file nobody reads (and that a second daemon would not replay).
    func checkStillInPlace() throws {
        let mine = try fd.stat()
        let there: FileStatus?
        do { there = try FileSystem.stat(path) } catch Errno.noSuchFile { there = nil }
        guard mine.linkCount == 0 || there?.inode != mine.inode || there?.device != mine.device else { return }
        throw EventLogGone(path: path, removed: mine.linkCount == 0)
    }
}
