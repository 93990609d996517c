#if canImport(Glibc)
import Glibc
#endif

/// A folder the daemon owns, opened once, beneath which every path is resolved without
/// following a symbolic link at any component and without leaving it (`..`, absolute links).
///
/// Paths are given either relative to the root or absolute with the root's path (as given
/// to ``init(_:)``) in front. Resolution uses `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`
/// where the kernel has it, else a walk from the root's descriptor, one component at a time,
/// with `openat(O_NOFOLLOW | O_DIRECTORY)`. A symbolic link met on the way fails with
/// ``Errno/tooManySymlinks`` (`ELOOP`); a path outside the root with ``Errno/crossDevice``.
public final class RootDirectory: @unchecked Sendable {
    /// The path the root was opened with (trailing slashes removed).
    public let path: String
    /// The root's own descriptor (`O_RDONLY | O_DIRECTORY`).
    public let descriptor: FileDescriptor
    /// The root's identity, to compare roots by device and inode rather than by spelling.
    public let device: UInt64
    public let inode: UInt64

    private static let openat2Works = Locked<Bool>(true)

    /// Opens `path` (symbolic links in `path` itself are followed: the operator chose it).
    ///
    /// The corresponding C function is `open(O_RDONLY | O_DIRECTORY)`.
    public init(_ path: String) throws {
        self.path = Path.trimmingTrailingSlashes(path)
        descriptor = try FileDescriptor.open(self.path, O_RDONLY | O_DIRECTORY)
        let status = try descriptor.stat()
        device = status.device
        inode = status.inode
    }

    /// Takes an exclusive `flock` on the root folder itself, held as long as this object lives
    /// (whatever happens to the files under it); false when another process holds it.
    ///
    /// The corresponding C function is `flock(LOCK_EX | LOCK_NB)`.
    public func lockExclusively() throws -> Bool {
        do {
            _ = try valueOrErrno("flock", path: path) { flock(descriptor.rawValue, LOCK_EX | LOCK_NB) }
            return true
        } catch Errno.wouldBlock {
            return false
        }
    }

    /// `path` relative to the root (`""` for the root itself), or ``Errno/crossDevice`` when
    /// it is not beneath it or has a `..` component.
    public func relative(_ path: String) throws -> String {
        let slash = UInt8(ascii: "/")
        var rest: Substring
        if path.utf8.first == slash {
            if self.path == "/" {
                rest = path.dropFirst()
            } else {
                let bytes = path.utf8
                guard bytes.starts(with: self.path.utf8) else { throw SystemError(operation: "resolve", path: path, errno: .crossDevice) }
                let end = bytes.index(bytes.startIndex, offsetBy: self.path.utf8.count)
                if end == bytes.endIndex { return "" }
                guard bytes[end] == slash else { throw SystemError(operation: "resolve", path: path, errno: .crossDevice) }
                rest = path[bytes.index(after: end)...]
            }
        } else {
            rest = Substring(path)
        }
        if RootDirectory.isPlainRelative(rest.utf8) { return String(rest) } // the usual case: nothing to drop
        let parts = rest.split(separator: "/").filter { $0 != "." }
        if parts.contains("..") { throw SystemError(operation: "resolve", path: path, errno: .crossDevice) }
        return parts.joined(separator: "/")
    }

    /// Whether `bytes` is a relative path with no empty, `.` or `..` component (and not empty).
    private static func isPlainRelative(_ bytes: Substring.UTF8View) -> Bool {
        var length = 0, dots = 0
        for byte in bytes {
            if byte == UInt8(ascii: "/") {
                if length == 0 || (dots == length && length <= 2) { return false }
                length = 0
                dots = 0
            } else {
                length += 1
                if byte == UInt8(ascii: ".") { dots += 1 }
            }
        }
        return length > 0 && !(dots == length && length <= 2)
    }

    /// Opens `path` beneath the root; `O_CLOEXEC` and `O_NOFOLLOW` are always added.
    ///
    /// The corresponding C function is `openat2`, or `openat` per component.
    public func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> FileDescriptor {
        let rel = try relative(path)
        let full = flags | O_CLOEXEC | O_NOFOLLOW
        if rel.isEmpty { return try reopenRoot(flags: full, label: path) }
        if Self.openat2Works.withLock({ $0 }), let syscall = GNU.syscall4 {
            var how = (UInt64(UInt32(bitPattern: full)), (full & O_CREAT) != 0 ? UInt64(mode) : 0, // a mode without O_CREAT is EINVAL
                       GNU.RESOLVE_BENEATH | GNU.RESOLVE_NO_SYMLINKS | GNU.RESOLVE_NO_MAGICLINKS)
            do {
                let fd = try valueOrErrno("openat2", path: path) {
                    rel.withCString { name in
                        withUnsafeBytes(of: &how) { raw in
                            Int32(truncatingIfNeeded: syscall(GNU.SYS_openat2, Int(descriptor.rawValue), name, raw.baseAddress, 24))
                        }
                    }
                }
                return FileDescriptor(owning: fd, path: path)
            } catch let e as SystemError where e.errno == .notImplemented || e.errno == .notPermitted {
                Self.openat2Works.withLock { $0 = false } // no openat2 (or a seccomp filter refusing it)
            }
        }
        return try walk(rel, flags: full, mode: mode, label: path)
    }

    /// Opens the folder `path` beneath the root (`O_RDONLY | O_DIRECTORY`).
    public func openDirectory(_ path: String) throws -> FileDescriptor {
        try open(path, O_RDONLY | O_DIRECTORY)
    }

    /// The folder holding `path`, opened beneath the root, and the last component's name.
    public func parent(of path: String) throws -> (FileDescriptor, String) {
        let rel = try relative(path) // no empty, `.` or `..` component
        guard !rel.isEmpty else { throw SystemError(operation: "resolve", path: path, errno: .isDirectory) }
        guard let slash = rel.utf8.lastIndex(of: UInt8(ascii: "/")) else { return (try openDirectory(""), rel) }
        return (try openDirectory(String(rel[..<slash])), String(rel[rel.utf8.index(after: slash)...]))
    }

    /// The status of `path` itself, its folders resolved beneath the root.
    ///
    /// The corresponding C function is `fstatat(AT_SYMLINK_NOFOLLOW)`.
    public func lstat(_ path: String) throws -> FileStatus {
        let (dir, name) = try parent(of: path)
        var s = Glibc.stat()
        _ = try valueOrErrno("fstatat", path: path) { fstatat(dir.rawValue, name, &s, AT_SYMLINK_NOFOLLOW) }
        return FileStatus(s)
    }

    /// ``lstat(_:)``, or nil when nothing is at `path` (`ENOENT`); any other failure (a folder
    /// reached through a link, no permission) is thrown, never taken for absence.
    public func lstatIfPresent(_ path: String) throws -> FileStatus? {
        do { return try lstat(path) } catch Errno.noSuchFile { return nil }
    }

    /// Whether anything (even a dangling link) is at `path`; a path that cannot be resolved
    /// beneath the root counts as absent.
    public func exists(_ path: String) -> Bool {
        do { _ = try lstat(path); return true } catch { return false }
    }

    /// The first component of `path` (as an absolute path) that is a symbolic link, if any.
    public func symlinkedComponent(of path: String) -> String? {
        guard let rel = try? relative(path) else { return nil } // not beneath: nothing of ours
        var prefix = ""
        for part in rel.split(separator: "/") {
            prefix = prefix.isEmpty ? String(part) : prefix + "/" + part
            guard let (dir, name) = try? parent(of: prefix) else { return nil }
            var s = Glibc.stat()
            guard fstatat(dir.rawValue, name, &s, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
            if FileKind(mode: s.st_mode) == .symlink { return Path.join(self.path, prefix) }
        }
        return nil
    }

    /// Creates the folder `path` and any missing folders above it, beneath the root.
    /// An existing folder is fine; a symbolic link in the way fails with `ELOOP`.
    ///
    /// The corresponding C function is `mkdirat`.
    public func createDirectory(_ path: String) throws {
        let rel = try relative(path)
        var prefix = ""
        for part in rel.split(separator: "/") {
            prefix = prefix.isEmpty ? String(part) : prefix + "/" + part
            let (dir, name) = try parent(of: prefix)
            do {
                _ = try valueOrErrno("mkdirat", path: Path.join(self.path, prefix)) { mkdirat(dir.rawValue, name, 0o755) }
            } catch Errno.exists {
                _ = try openDirectory(prefix) // a folder, not a link or a file
            }
        }
    }

    /// Renames `from` to `to` (both beneath the root), failing with ``Errno/exists`` if `to`
    /// exists, then flushes the destination folder (unless `syncingFolder` is false: the caller
    /// flushes it once for several renames).
    ///
    /// The corresponding C function is `renameat2(RENAME_NOREPLACE)`, else `linkat` + `unlinkat`.
    public func renameNoReplace(_ from: String, _ to: String, syncingFolder: Bool = true) throws {
        let (fromDir, fromName) = try parent(of: from)
        let (toDir, toName) = try parent(of: to)
        let label = "\(from) -> \(to)"
        var done = false
        if let renameat2 = GNU.renameat2 {
            do {
                _ = try valueOrErrno("renameat2", path: label) {
                    renameat2(fromDir.rawValue, fromName, toDir.rawValue, toName, GNU.RENAME_NOREPLACE)
                }
                done = true
            } catch Errno.invalidArgument {
            } catch Errno.notImplemented {
            }
        }
        if !done {
            _ = try valueOrErrno("linkat", path: label) { linkat(fromDir.rawValue, fromName, toDir.rawValue, toName, 0) }
            _ = try valueOrErrno("unlinkat", path: from) { unlinkat(fromDir.rawValue, fromName, 0) }
        }
        if syncingFolder { try toDir.fsync() }
    }

    /// Creates the new file `path` with `bytes` (`O_CREAT | O_EXCL`: an existing name, even a
    /// link, fails with ``Errno/exists``), `fsync`ed unless `durable` is false.
    public func createNew(_ path: String, with bytes: [UInt8], mode: mode_t = 0o644, durable: Bool = true) throws {
        let fd = try open(path, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        try fd.writeAll(bytes)
        if durable { try fd.fsync() }
        try fd.close()
    }

    /// Renames the entry `rawName` (any bytes, such as a name that is not UTF-8) of `folder` to
    /// `to`, failing with ``Errno/exists`` if `to` exists; flushes the destination folder.
    public func renameNoReplace(inFolder folder: String, rawName: [UInt8], to: String) throws {
        let from = try openDirectory(folder)
        let (toDir, toName) = try parent(of: to)
        let name = rawName.map { CChar(bitPattern: $0) } + [0]
        guard let renameat2 = GNU.renameat2 else {
            throw SystemError(operation: "renameat2", path: to, errno: .notImplemented)
        }
        _ = try valueOrErrno("renameat2", path: "\(folder)/… -> \(to)") {
            renameat2(from.rawValue, name, toDir.rawValue, toName, GNU.RENAME_NOREPLACE)
        }
        try toDir.fsync()
    }

    /// Creates the new file `path` with `bytes`, whole or not at all: written to the new temp
    /// `tempName` in the same folder, `fsync`ed, then renamed to `path` only if `path` is still
    /// free (``renameNoReplace(_:_:)``). A crash leaves at most the temp.
    public func createAtomically(_ path: String, with bytes: [UInt8], tempName: String) throws {
        let temp = Path.join(Path.parent(path), tempName)
        try createNew(temp, with: bytes)
        do { try renameNoReplace(temp, path) } catch {
            _ = try? unlink(temp) // our own temp; the rename's error is the one to report
            throw error
        }
    }

    /// Replaces `path` with `bytes` atomically: a new temp `tempName` in the same folder
    /// (`O_EXCL`), `fsync`, `renameat` over `path`, `fsync` of the folder. The name is replaced,
    /// never written through, so a hard link planted at `path` keeps its old contents.
    public func replace(_ path: String, with bytes: [UInt8], tempName: String,
                        faultHook: ((AtomicFile.Step) -> Void)? = nil) throws {
        try replace(path, prefix: 0, of: nil, then: bytes, tempName: tempName, faultHook: faultHook)
    }

    /// The same, the new file being the first `prefixLength` bytes of `source` followed by
    /// `rest` (see ``AtomicFile/replace(_:prefix:of:then:faultHook:)``); returns the new file's status.
    @discardableResult
    public func replace(_ path: String, prefix prefixLength: Int, of source: FileDescriptor?, then rest: [UInt8],
                        tempName: String, faultHook: ((AtomicFile.Step) -> Void)? = nil) throws -> FileStatus {
        precondition(prefixLength == 0 || source != nil, "a prefix needs a source")
        let (dir, name) = try parent(of: path)
        let fd = try FileDescriptor(owning: valueOrErrno("openat", path: path) {
            openat(dir.rawValue, tempName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        }, path: path)
        let status: FileStatus
        do {
            if let source, prefixLength > 0 { try AtomicFile.copyPrefix(prefixLength, from: source, to: fd) }
            try fd.writeAll(rest)
            faultHook?(.tempWritten)
            try fd.fsync()
            faultHook?(.tempSynced)
            status = try fd.stat()
            try fd.close()
            _ = try valueOrErrno("renameat", path: "\(tempName) -> \(path)") { renameat(dir.rawValue, tempName, dir.rawValue, name) }
        } catch {
            _ = unlinkat(dir.rawValue, tempName, 0) // our own temp; the first error is the one to report
            throw error
        }
        faultHook?(.renamed)
        try dir.fsync()
        faultHook?(.directorySynced)
        return status
    }

    /// Removes the file `name` from the folder `path` (beneath the root).
    ///
    /// The corresponding C function is `unlinkat`.
    public func unlink(_ path: String) throws {
        let (dir, name) = try parent(of: path)
        _ = try valueOrErrno("unlinkat", path: path) { unlinkat(dir.rawValue, name, 0) }
    }

    /// The entries of the folder `path` (beneath the root), names as raw bytes decoded
    /// leniently; see ``FileSystem/listDirectory(_:)``.
    public func listDirectory(_ path: String) throws -> [DirectoryEntry] {
        let fd = try openDirectory(path)
        return try FileSystem.listDirectory(fd.release(), label: path)
    }

    // MARK: - Private

    private func reopenRoot(flags: Int32, label: String) throws -> FileDescriptor {
        let fd = try valueOrErrno("openat", path: label) { openat(descriptor.rawValue, ".", flags & ~O_NOFOLLOW) }
        return FileDescriptor(owning: fd, path: label)
    }

    private func walk(_ rel: String, flags: Int32, mode: mode_t, label: String) throws -> FileDescriptor {
        let parts = rel.split(separator: "/").map(String.init)
        var dir = try reopenRoot(flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, label: path)
        for (i, part) in parts.enumerated() {
            let last = i == parts.count - 1
            let f = last ? flags : (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            do {
                let fd = try valueOrErrno("openat", path: label) { openat(dir.rawValue, part, f, mode) }
                dir = FileDescriptor(owning: fd, path: label)
            } catch let e as SystemError where e.errno == .notDirectory || e.errno == .tooManySymlinks {
                var s = Glibc.stat()
                if fstatat(dir.rawValue, part, &s, AT_SYMLINK_NOFOLLOW) == 0, FileKind(mode: s.st_mode) == .symlink {
                    throw SystemError(operation: "openat", path: label, errno: .tooManySymlinks)
                }
                throw e
            }
        }
        return dir
    }
}
