import WatcherCore
import WatcherSystem

extension Daemon {
    /// Makes a folder that is the daemon's own (under `logs/`, the control and watcher maildirs
    /// under `mailbox/`). A symbolic link planted at its name or at a folder above it (below the
    /// root's `logs/` and `mailbox/`) is moved aside into `logs/refused/`, never followed, and the
    /// folder is made; the move is logged (`file.rejected`) once the log is open. A start never
    /// fails on such a link, and an agent is never kept from starting by one.
    func makeOwnFolder(_ dir: String) throws {
        for _ in 0..<4 {
            do { return try root.createDirectory(dir) } catch let e as SystemError {
                guard let link = root.symlinkedComponent(of: dir), link != layout.logs, link != layout.mailbox,
                      link != layout.logs + "/refused" else { throw e }
                try moveAsideIntoLogsRefused(link)
            }
        }
        try root.createDirectory(dir)
    }

    /// A file of the daemon's own under `logs/` (the pid file, the lock file): anything but a
    /// plain file of one link planted at its name (a folder, a FIFO, a symbolic or hard link to
    /// a file elsewhere, which the lock's truncate would empty) is moved aside into
    /// `logs/refused/`, logged once the log is open.
    func clearOwnFileName(_ path: String) throws {
        guard let s = try root.lstatIfPresent(path) else { return } // absent: nothing in the way
        if s.kind != .regular || s.linkCount != 1 { try moveAsideIntoLogsRefused(path) }
    }

    func moveAsideIntoLogsRefused(_ path: String) throws {
        let folder = layout.logs + "/refused"
        try root.createDirectory(folder)
        let name = DerivedName.fitting(basename(path), reserving: 12)
        var dest = folder + "/" + name
        var n = 1
        while root.exists(dest) {
            n += 1
            dest = folder + "/" + name + ".\(n)"
        }
        try root.renameNoReplace(path, dest)
        movedAsideAtStart.append((path, dest))
    }

    /// The event log is the daemon's own record: a symbolic link, a hard link (say, to a file
    /// outside), a FIFO or a folder at its name is never read, cut or appended to; the start
    /// stops and says so.
    func checkEventLogIsPlain() throws {
        guard let s = try root.lstatIfPresent(layout.eventLog) else { return } // none yet: a fresh log
        guard s.kind == .regular && s.linkCount == 1 else {
            throw NotPlainEventLog(path: layout.eventLog, kind: s.kind, links: Int(s.linkCount))
        }
    }
}

/// The event log's name holds something the daemon did not make.
struct NotPlainEventLog: Error, CustomStringConvertible {
    var path: String
    var kind: FileKind
    var links: Int
    var description: String {
        let what = kind == .regular ? "a file with \(links) hard links" : "a \(kind.rawValue)"
        return "\(path) is \(what), not the watcher's own log: it is not read, cut or written. "
            + "Put the real log back (or move this aside to start a new log), then start again"
    }
}

extension Daemon {

    /// The links `makeOwnFolder` and `clearOwnFileName` moved aside, as records (once the log is open).
    func logLinksMovedAside() throws {
        for (link, dest) in movedAsideAtStart {
            let target = (try? FileSystem.readLink(dest)) ?? "?" // only for the message
            try log.append(Event(event: EventName.fileRejected,
                                 reason: "\(link) was a symbolic link (to \(DerivedName.escaped(target))) where the watcher's own folder goes; "
                                    + "moved aside, never followed, and the folder made",
                                 details: [.init("from", .string(link)), .init("path", .string(dest)),
                                           .init("name", .string(DerivedName.escaped(basename(link))))]))
        }
        movedAsideAtStart = []
    }
}
