#if canImport(Glibc)
import Glibc
#endif

/// Path-based file system operations. Every error is a ``SystemError`` naming the path.
public enum FileSystem {
    /// Creates a directory (mode 0755 before the umask). An existing directory is fine.
    ///
    /// The corresponding C function is `mkdir`.
    public static func createDirectory(_ path: String, intermediates: Bool = true) throws {
        do {
            _ = try valueOrErrno("mkdir", path: path) { mkdir(path, 0o755) }
        } catch Errno.exists {
            if try stat(path).kind != .directory {
                throw SystemError(operation: "mkdir", path: path, errno: .exists)
            }
        } catch Errno.noSuchFile where intermediates {
            let parent = Path.parent(path)
            guard parent != path else { throw SystemError(operation: "mkdir", path: path, errno: .noSuchFile) }
            try createDirectory(parent, intermediates: true)
            try createDirectory(path, intermediates: false)
        }
    }

    /// The entries of a directory, without `.` and `..`, in `readdir` order.
    ///
    /// The corresponding C functions are `opendir`, `readdir` and `closedir`.
    public static func listDirectory(_ path: String) throws -> [DirectoryEntry] {
        guard let dir = opendir(path) else {
            throw SystemError(operation: "opendir", path: path, errno: .current)
        }
        return try list(dir, label: path)
    }

    /// The entries of the open folder `descriptor`, which this call takes over and closes.
    ///
    /// The corresponding C functions are `fdopendir`, `readdir` and `closedir`.
    public static func listDirectory(_ descriptor: Int32, label: String) throws -> [DirectoryEntry] {
        guard let dir = fdopendir(descriptor) else {
            let e = Errno.current
            _ = Glibc.close(descriptor)
            throw SystemError(operation: "fdopendir", path: label, errno: e)
        }
        return try list(dir, label: label)
    }

    private static func list(_ dir: OpaquePointer, label path: String) throws -> [DirectoryEntry] {
        defer { closedir(dir) }
        var entries: [DirectoryEntry] = []
        while true {
            Glibc.errno = 0
            guard let entry = readdir(dir) else {
                if Glibc.errno != 0 { throw SystemError(operation: "readdir", path: path, errno: .current) }
                return entries
            }
            let raw = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            let name = String(decoding: raw, as: UTF8.self)
            if name == "." || name == ".." { continue }
            let kind: FileKind
            if let k = FileKind(directoryEntryType: entry.pointee.d_type) {
                kind = k
            } else {
                var s = Glibc.stat()
                guard fstatat(dirfd(dir), raw.map { CChar(bitPattern: $0) } + [0], &s, AT_SYMLINK_NOFOLLOW) == 0 else {
                    continue  // removed since readdir saw it
                }
                kind = FileKind(mode: s.st_mode)
            }
            entries.append(DirectoryEntry(name: name, kind: kind, rawName: raw))
        }
    }

    /// Renames `from` to `to`, replacing `to` if it exists.
    ///
    /// The corresponding C function is `rename`.
    public static func rename(_ from: String, _ to: String) throws {
        _ = try valueOrErrno("rename", path: "\(from) -> \(to)") { Glibc.rename(from, to) }
    }

    /// Renames `from` to `to`, failing with ``Errno/exists`` if `to` exists.
    ///
    /// The corresponding C function is `renameat2` with `RENAME_NOREPLACE`. Where
    /// the kernel, the file system or glibc lacks it, falls back to `link` + `unlink`
    /// (for regular files only; also atomic about the "no replace" part).
    public static func renameNoReplace(_ from: String, _ to: String) throws {
        let label = "\(from) -> \(to)"
        if let renameat2 = GNU.renameat2 {
            do {
                _ = try valueOrErrno("renameat2", path: label) {
                    renameat2(AT_FDCWD, from, AT_FDCWD, to, GNU.RENAME_NOREPLACE)
                }
                return
            } catch Errno.invalidArgument {
                // The file system does not support the flag: fall through.
            } catch Errno.notImplemented {
                // The kernel does not know renameat2: fall through.
            }
        }
        _ = try valueOrErrno("link", path: label) { link(from, to) }
        try unlink(from)
    }

    /// Flushes a directory's entries (after a create, rename or unlink in it) to the device.
    ///
    /// The corresponding C functions are `open(O_DIRECTORY)` and `fsync`.
    public static func fsyncDirectory(_ path: String) throws {
        let fd = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        try fd.fsync()
        try fd.close()
    }

    /// Whether something (of any kind, even a dangling symbolic link) is at `path`.
    ///
    /// The corresponding C function is `lstat`.
    public static func exists(_ path: String) -> Bool {
        var s = Glibc.stat()
        return Glibc.lstat(path, &s) == 0
    }

    /// Whether `path` is a regular file (links followed) this process may execute.
    ///
    /// The corresponding C functions are `fstatat` and `access(X_OK)`.
    public static func isExecutableFile(_ path: String) -> Bool {
        var s = Glibc.stat()
        return fstatat(AT_FDCWD, path, &s, 0) == 0 && FileKind(mode: s.st_mode) == .regular && Glibc.access(path, X_OK) == 0
    }

    /// The status of `path` itself (a symbolic link is not followed).
    ///
    /// The corresponding C function is `lstat`.
    public static func lstat(_ path: String) throws -> FileStatus {
        var s = Glibc.stat()
        _ = try valueOrErrno("lstat", path: path) { Glibc.lstat(path, &s) }
        return FileStatus(s)
    }

    /// ``lstat(_:)``, or nil when nothing is at `path` (`ENOENT`); any other failure is thrown.
    public static func lstatIfPresent(_ path: String) throws -> FileStatus? {
        do { return try lstat(path) } catch Errno.noSuchFile { return nil }
    }

    /// The status of the file `path` leads to (symbolic links followed).
    ///
    /// The corresponding C function is `stat` (called as `fstatat(AT_FDCWD, path, &s, 0)`).
    public static func stat(_ path: String) throws -> FileStatus {
        var s = Glibc.stat()
        _ = try valueOrErrno("stat", path: path) { fstatat(AT_FDCWD, path, &s, 0) }
        return FileStatus(s)
    }

    /// Removes a file name.
    ///
    /// The corresponding C function is `unlink`.
    public static func unlink(_ path: String) throws {
        _ = try valueOrErrno("unlink", path: path) { Glibc.unlink(path) }
    }

    /// Removes an empty directory.
    ///
    /// The corresponding C function is `rmdir`.
    public static func removeDirectory(_ path: String) throws {
        _ = try valueOrErrno("rmdir", path: path) { Glibc.rmdir(path) }
    }

    /// Reads a whole file (symbolic links followed).
    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try FileDescriptor.open(path, O_RDONLY)
        let bytes = try fd.readAll()
        try fd.close()
        return bytes
    }

    /// A whole regular file (symbolic links followed). Anything else at the name (a FIFO, a
    /// socket, a device, a folder) is never read or waited on: ``NotARegularFile``.
    ///
    /// The corresponding C functions are `open(O_NONBLOCK)` and `fstat`.
    public static func readRegularFile(_ path: String) throws -> [UInt8] {
        let fd = try openRegular(path)
        let bytes = try fd.readAll()
        try fd.close()
        return bytes
    }

    /// Opened for reading without waiting (a FIFO with no writer would block an `open` or a
    /// `read`), and only when it is a regular file.
    public static func openRegular(_ path: String) throws -> FileDescriptor {
        let fd = try FileDescriptor.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY)
        let kind = try fd.stat().kind
        guard kind == .regular else {
            try fd.close()
            throw NotARegularFile(path: path, kind: kind)
        }
        return fd
    }

    /// A name the caller reads as a file holds something else.
    public struct NotARegularFile: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var kind: FileKind
        public var description: String { "\(path) is a \(kind.rawValue), not a regular file: it is not read" }
    }

    /// At most the last `limit` bytes of a regular file from `offset` on (what an agent wrote to
    /// its log since it was started); anything else at the name is ``NotARegularFile``.
    public static func readTail(_ path: String, from offset: Int64, limit: Int) throws -> [UInt8] {
        let fd = try openRegular(path)
        let size = try fd.stat().size
        let start = max(offset, size - Int64(limit))
        var bytes: [UInt8] = []
        if start < size {
            try fd.seek(to: start)
            while bytes.count < Int(size - start) {
                let chunk = try fd.read(upTo: Int(size - start) - bytes.count)
                if chunk.isEmpty { break }
                bytes += chunk
            }
        }
        try fd.close()
        return bytes
    }

    /// The absolute path with every symbolic link, `.` and `..` resolved.
    ///
    /// The corresponding C function is `realpath`.
    public static func realPath(_ path: String) throws -> String {
        guard let resolved = Glibc.realpath(path, nil) else {
            throw SystemError(operation: "realpath", path: path, errno: .current)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The target of a symbolic link.
    ///
    /// The corresponding C function is `readlink`.
    public static func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = try valueOrErrno("readlink", path: path) { Glibc.readlink(path, &buffer, buffer.count - 1) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The absolute path of the running executable (`/proc/self/exe`).
    public static func executablePath() throws -> String {
        try readLink("/proc/self/exe")
    }

    /// Creates a new, empty, private (0700) directory named `<prefix>XXXXXX`,
    /// e.g. `makeTemporaryDirectory("/tmp/watcher-")`, and returns its path.
    ///
    /// The corresponding C function is `mkdtemp`.
    public static func makeTemporaryDirectory(_ prefix: String) throws -> String {
        var template = Array((prefix + "XXXXXX").utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard result != nil else {
            throw SystemError(operation: "mkdtemp", path: prefix, errno: .current)
        }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Removes `path` and, if it is a directory, everything under it.
    /// Symbolic links are removed, never followed. A missing path is fine.
    public static func removeTree(_ path: String) throws {
        let status: FileStatus
        do {
            status = try lstat(path)
        } catch Errno.noSuchFile {
            return
        }
        if status.kind == .directory {
            for entry in try listDirectory(path) {
                try removeTree(Path.join(path, entry.name))
            }
            try removeDirectory(path)
        } else {
            try unlink(path)
        }
    }
}


extension FileSystem {
    /// The name of the network filesystem `path` is on (NFS, Lustre, CIFS/SMB, Ceph, GPFS,
    /// 9p, FUSE), or nil for a local one: inotify sees no write made there by another host.
    ///
    /// The corresponding C function is `statfs`.
    public static func networkFilesystem(_ path: String) throws -> String? {
        guard let statfs = GNU.statfs else { throw SystemError(operation: "statfs", path: path, errno: .notImplemented) }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 16) // struct statfs is 120 bytes
        defer { buffer.deallocate() }
        _ = try valueOrErrno("statfs", path: path) { statfs(path, buffer) }
        let fType = buffer.load(as: Int.self)
        let names: [Int: String] = [
            0x6969: "NFS", 0x0BD0_0BD0: "Lustre", 0xFF53_4D42: "CIFS", 0xFE53_4D42: "SMB2", 0x517B: "SMB",
            0x00C3_6400: "Ceph", 0x4750_4653: "GPFS", 0x0102_1997: "9p", 0x6573_5546: "FUSE",
        ]
        return names[Int(UInt32(truncatingIfNeeded: fType))]
    }
}
