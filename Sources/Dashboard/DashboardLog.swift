import AgentWatcher
import Glibc
import WatcherCore
import WatcherSystem

/// What the dashboard knows of the event log: every good record with its line, followed with
/// inotify (``LogFollower``). The dashboard never writes the log.
final class DashboardLog {
    struct Entry {
        var record: EventRecord
        /// The line as logged, without `\n`: already JSON, sent as is by the API and the stream.
        var line: [UInt8]
    }

    let layout: Layout
    let follower: LogFollower
    private(set) var entries: [Entry] = []
    /// Damaged lines seen (shown, never served).
    private(set) var damaged = 0

    init(layout: Layout) throws {
        self.layout = layout
        follower = try LogFollower(layout: layout, fromStart: true)
        _ = try readNew()
    }

    var fileDescriptor: Int32 { follower.fileDescriptor }
    var lastSeq: UInt64 { entries.last?.record.seq ?? 0 }
    /// The records and the state they replay to, made once per change of the log however many
    /// requests ask (``replays`` counts how often the log was replayed).
    struct Snapshot {
        var records: [EventRecord]
        var state: WatcherState
        /// The responders' turns, folded from the same records (overview, messages, /api/messages).
        var turns: TurnSummary
    }
    private var snapshotCache: (generation: Int, value: Snapshot)?
    /// Bumped whenever `entries` changes.
    private var generation = 0
    private(set) var replays = 0

    func snapshot() -> Snapshot {
        if let c = snapshotCache, c.generation == generation { return c.value }
        let records = entries.map(\.record)
        replays += 1
        let value = Snapshot(records: records, state: StatusReport.replay(records), turns: TurnSummary.build(records))
        snapshotCache = (generation, value)
        return value
    }

    /// New entries since the last call (after inotify said the log folder changed).
    func readNew() throws -> ArraySlice<Entry> {
        let before = entries.count
        for (line, record) in try follower.readNew() {
            guard let record else { damaged += 1; continue }
            if let last = entries.last, record.seq <= last.record.seq { entries.removeAll() } // the log was replaced
            entries.append(Entry(record: record, line: line))
            generation += 1
        }
        return entries[min(before, entries.count)...]
    }

    /// Entries with `seq` greater than `since`, by binary search.
    func entries(after since: UInt64) -> ArraySlice<Entry> {
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].record.seq <= since { lo = mid + 1 } else { hi = mid }
        }
        return entries[lo...]
    }

    /// The daemon's pid when one runs: the pid file's process is alive. Takes no lock.
    func daemonPID() -> Int32? {
        guard FileSystem.exists(layout.pidFile), let bytes = try? FileSystem.readFile(layout.pidFile) else { return nil } // a file that vanishes means down
        guard let pid = Int32(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }), pid > 0 else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }
}
