#if canImport(Glibc)
import Glibc
#endif

/// Watches whole folder trees with one ``Inotify`` and reports files that are
/// complete or newly seen, as ``WatchedFileEvent``s.
///
/// A folder's watch is always added *before* the folder is listed, so a file
/// that lands between the two is reported at least once (possibly twice:
/// consumers dedupe). New subfolders are watched and scanned as they appear.
/// Names for which the `ignoring` predicate is true (or paths for which the
/// `ignoringPath` predicate is true) produce no events and are not descended into. Symbolic links are never followed below a root.
///
/// Not synchronised: use it from one thread at a time.
public final class DirectoryWatcher: @unchecked Sendable {
    private struct Watch {
        var path: String
        var device: UInt64
        var inode: UInt64
    }

    /// The events asked for on every folder.
    public static let watchMask: InotifyMask = [.closeWrite, .movedTo, .create, .deleteSelf, .moveSelf, .onlyDir]

    private let inotify: Inotify
    /// (folder, name) -> whether to leave the entry alone.
    private let isIgnored: @Sendable (String, String) -> Bool
    private var roots: [String] = []
    private var watches: [Int32: Watch] = [:]
    private var watchByPath: [String: Int32] = [:]
    /// Folders reported ``WatchedFileEvent/unwatchable(_:_:)`` and not watched since.
    public private(set) var unwatchable: Set<String> = []
    /// Folders deeper than this below a root are not watched (nor descended into): reported
    /// unwatchable. ``defaultMaxDepth`` unless set.
    public var maxDepth = DirectoryWatcher.defaultMaxDepth
    /// The documented depth limit: 16 folders below a root.
    public static let defaultMaxDepth = 16

    /// - Parameter ignoring: true for a file or folder *name* (not path) to leave alone,
    ///   such as the staging names of ``AtomicFile``.
    public init(ignoring: @escaping @Sendable (String) -> Bool = { _ in false }) throws {
        self.inotify = try Inotify()
        self.isIgnored = { _, name in ignoring(name) }
    }

    /// - Parameter ignoringPath: true for the full path (a root's path as given, plus the
    ///   relative path) of a file or folder to leave alone: for when the same name is to be
    ///   watched in one place and not in another.
    public init(ignoringPath: @escaping @Sendable (String) -> Bool) throws {
        self.inotify = try Inotify()
        self.isIgnored = { folder, name in ignoringPath(Path.join(folder, name)) }
    }

    /// The descriptor to poll; call ``readEvents()`` when it is readable.
    public var fileDescriptor: Int32 { inotify.fileDescriptor }

    /// The folders currently watched, sorted.
    public var watchedDirectories: [String] { watchByPath.keys.sorted() }

    /// Watches `root` and every folder under it, and returns ``WatchedFileEvent/found(_:)``
    /// for every regular file already there. Watching a root twice is harmless.
    public func watchTree(_ root: String) throws -> [WatchedFileEvent] {
        let root = Path.trimmingTrailingSlashes(root)
        if !roots.contains(root) { roots.append(root) }
        var events: [WatchedFileEvent] = []
        var visited: Set<Int32> = []
        try addTree(root, isRoot: true, events: &events, visited: &visited)
        return events
    }

    /// Reads the queued inotify events and translates them (see ``process(_:)``).
    /// Returns an empty array when nothing is queued.
    public func readEvents() throws -> [WatchedFileEvent] {
        try process(inotify.readEvents())
    }

    /// Re-adds watches wherever missing, forgets watches on folders no longer in
    /// the trees, and returns ``WatchedFileEvent/found(_:)`` for every file.
    /// Call it after ``WatchedFileEvent/overflow``.
    public func rescan() throws -> [WatchedFileEvent] {
        var events: [WatchedFileEvent] = []
        var visited: Set<Int32> = []
        for root in roots {
            try addTree(root, isRoot: true, events: &events, visited: &visited)
        }
        for (wd, _) in watches where !visited.contains(wd) {
            inotify.removeWatch(wd)
            forget(wd)
        }
        return events
    }

    /// Translates raw inotify events, adding watches for new folders as it goes.
    /// ``readEvents()`` is this applied to what the kernel queued; it is public so
    /// that the translation can be tested with synthetic events.
    public func process(_ rawEvents: [InotifyEvent]) throws -> [WatchedFileEvent] {
        var events: [WatchedFileEvent] = []
        // Files closed after writing in this same read: a create among them needs no lstat to
        // tell a special file (the close is reported, and its consumer looks at the file then).
        var closed: Set<InotifyEventKey> = []
        for event in rawEvents where event.mask.contains(.closeWrite) { closed.insert(InotifyEventKey(event)) }
        for event in rawEvents {
            if event.mask.contains(.queueOverflow) {
                events.append(.overflow)
                continue
            }
            guard let watch = watches[event.watch] else { continue }  // already forgotten
            if event.mask.contains(.ignored) {
                forget(event.watch)
                continue
            }
            if event.name.isEmpty {
                if !event.mask.isDisjoint(with: [.deleteSelf, .moveSelf, .unmount]) {
                    if event.mask.contains(.moveSelf) && isStillAtItsPath(watch) { continue }
                    events.append(.directoryGone(watch.path))
                    forgetTree(watch.path)
                }
                continue
            }
            if String(validating: event.rawName, as: UTF8.self) == nil {
                if !event.mask.isDisjoint(with: [.closeWrite, .movedTo, .create]) {
                    events.append(.undecodable(folder: watch.path, rawName: event.rawName))
                }
                continue
            }
            if isIgnored(watch.path, event.name) { continue }
            let path = Path.join(watch.path, event.name)
            if event.mask.contains(.isDir) {
                if !event.mask.isDisjoint(with: [.create, .movedTo]) {
                    var visited: Set<Int32> = []
                    try addTree(path, isRoot: false, events: &events, visited: &visited)
                }
            } else if event.mask.contains(.closeWrite) {
                events.append(.closedWrite(path))
            } else if event.mask.contains(.movedTo) {
                events.append(.movedIn(path))
            } else if event.mask.contains(.create), !closed.contains(InotifyEventKey(event)), isSpecialFile(path) {
                // A symlink, FIFO, socket or device made in place gets no close event: report it
                // now, so the consumer can refuse it. A regular file is reported at its close.
                events.append(.found(path))
            }
        }
        return events
    }

    // MARK: - Private

    /// Adds a watch on `directory`, then lists it: files become `.found`, folders recurse.
    /// A folder (not a root) that vanishes or stops being a folder meanwhile is skipped.
    private func addTree(
        _ directory: String,
        isRoot: Bool,
        events: inout [WatchedFileEvent],
        visited: inout Set<Int32>
    ) throws {
        let entries: [DirectoryEntry]
        if !isRoot, let root = roots.first(where: { directory.hasPrefix($0 + "/") }),
           directory.dropFirst(root.count).split(separator: "/").count > maxDepth {
            if unwatchable.insert(directory).inserted { events.append(.unwatchable(directory, nil)) }
            return
        }
        do {
            let mask = isRoot ? Self.watchMask : Self.watchMask.union(.dontFollow)
            let wd: Int32
            do {
                wd = try inotify.addWatch(directory, mask: mask)
                unwatchable.remove(directory)
            } catch let e as SystemError where !isRoot && Self.isLimit(e.errno) {
                // A kernel limit for this folder: the rest goes on; its files are listed by each scan.
                if unwatchable.insert(directory).inserted { events.append(.unwatchable(directory, e.errno)) }
                entries = try FileSystem.listDirectory(directory)
                for entry in entries where !isIgnored(directory, entry.name) {
                    let path = Path.join(directory, entry.name)
                    switch entry.kind {
                    case .directory: try addTree(path, isRoot: false, events: &events, visited: &visited)
                    default: events.append(.found(path))
                    }
                }
                return
            }
            guard visited.insert(wd).inserted else { return }  // same folder reached twice
            let status = try FileSystem.stat(directory)
            record(wd, Watch(path: directory, device: status.device, inode: status.inode))
            entries = try FileSystem.listDirectory(directory)
        } catch let error where !isRoot && (Errno.noSuchFile ~= error || Errno.notDirectory ~= error) {
            return
        }
        for entry in entries where !entry.isUTF8 {
            events.append(.undecodable(folder: directory, rawName: entry.rawName))
        }
        for entry in entries where entry.isUTF8 && !isIgnored(directory, entry.name) {
            let path = Path.join(directory, entry.name)
            switch entry.kind {
            case .directory: try addTree(path, isRoot: false, events: &events, visited: &visited)
            default: events.append(.found(path)) // regular files, and special files to be refused
            }
        }
    }

    /// The errors of `inotify_add_watch` that are a limit of the kernel or of paths, not a bug.
    static func isLimit(_ e: Errno) -> Bool {
        e == .noSpace || e == Errno(rawValue: ENAMETOOLONG) || e == Errno(rawValue: ENOMEM) || e == Errno(rawValue: EMFILE)
            || e == .permissionDenied
    }

    /// Whether `path` is there and is neither a regular file nor a folder (not following links),
    /// or is a regular file with more than one hard link (made with `link`, never closed here).
    private func isSpecialFile(_ path: String) -> Bool {
        do {
            let status = try FileSystem.lstat(path)
            return (status.kind != .regular && status.kind != .directory) || (status.kind == .regular && status.linkCount > 1)
        } catch {
            return false // gone already: nothing to report
        }
    }

    private func record(_ wd: Int32, _ watch: Watch) {
        if let old = watches[wd], old.path != watch.path, watchByPath[old.path] == wd {
            watchByPath[old.path] = nil
        }
        watches[wd] = watch
        watchByPath[watch.path] = wd
    }

    private func forget(_ wd: Int32) {
        guard let watch = watches.removeValue(forKey: wd) else { return }
        if watchByPath[watch.path] == wd { watchByPath[watch.path] = nil }
    }

    /// Drops `path` and the folders under it, removing their kernel watches.
    private func forgetTree(_ path: String) {
        let prefix = path + "/"
        for (wd, watch) in watches where watch.path == path || watch.path.hasPrefix(prefix) {
            inotify.removeWatch(wd)
            forget(wd)
        }
    }

    /// After `IN_MOVE_SELF`: true if the folder was moved within a tree and has
    /// already been re-watched at its new path (which `watch.path` now holds).
    private func isStillAtItsPath(_ watch: Watch) -> Bool {
        guard let status = try? FileSystem.stat(watch.path) else { return false }
        return status.kind == .directory && status.inode == watch.inode && status.device == watch.device
    }
}

/// A watched folder and a name in it, as raw inotify events carry them.
private struct InotifyEventKey: Hashable {
    var watch: Int32
    var name: [UInt8]
    init(_ event: InotifyEvent) {
        watch = event.watch
        name = event.rawName
    }
}
