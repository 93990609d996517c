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
                let folder = layout.logs + "/refused"
                try root.createDirectory(folder)
                let name = DerivedName.fitting(basename(link), reserving: 12)
                var dest = folder + "/" + name
                var n = 1
                while root.exists(dest) {
                    n += 1
                    dest = folder + "/" + name + ".\(n)"
                }
                try root.renameNoReplace(link, dest)
                movedAsideAtStart.append((link, dest))
            }
        }
        try root.createDirectory(dir)
    }

    /// The links `makeOwnFolder` moved aside, as records (once the log is open).
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
