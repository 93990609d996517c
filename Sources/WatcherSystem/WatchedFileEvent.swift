/// What ``DirectoryWatcher`` reports about the files in a watched tree.
/// Paths are absolute: the root as given plus the relative path.
public enum WatchedFileEvent: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A regular file that was already there when its folder was (re)scanned.
    /// It may still be being written; the same file may be reported again.
    case found(String)
    /// A file opened for writing was closed (`IN_CLOSE_WRITE`).
    case closedWrite(String)
    /// A file was renamed into a watched folder (`IN_MOVED_TO`).
    case movedIn(String)
    /// A watched folder was deleted or moved away (`IN_DELETE_SELF`, `IN_MOVE_SELF`).
    case directoryGone(String)
    /// The kernel's event queue overflowed and events were lost: call
    /// ``DirectoryWatcher/rescan()``.
    case overflow
    /// A folder that cannot be watched: `inotify_add_watch` failed with the errno (the watch
    /// limit: `ENOSPC`; `ENAMETOOLONG` ...), or nil when it is deeper than the watcher's
    /// ``DirectoryWatcher/maxDepth``. Reported once; its files are still listed by every scan.
    case unwatchable(String, Errno?)
    /// An entry of the folder whose name is not UTF-8: it cannot be named by a `String` path,
    /// only by the folder and these bytes.
    case undecodable(folder: String, rawName: [UInt8])

    /// The file or folder the event is about (`nil` for ``overflow``).
    public var path: String? {
        switch self {
        case .found(let p), .closedWrite(let p), .movedIn(let p), .directoryGone(let p), .unwatchable(let p, _), .undecodable(let p, _): return p
        case .overflow: return nil
        }
    }

    public var description: String {
        switch self {
        case .found(let p): return "found \(p)"
        case .closedWrite(let p): return "closed-write \(p)"
        case .movedIn(let p): return "moved-in \(p)"
        case .directoryGone(let p): return "directory-gone \(p)"
        case .overflow: return "overflow"
        case .undecodable(let p, let raw): return "undecodable \(p)/ \(raw)"
        case .unwatchable(let p, let e): return "unwatchable \(p): \(e.map(\.description) ?? "too deep")"
        }
    }
}
