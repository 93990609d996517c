#if canImport(Glibc)
import Glibc
#endif

extension AtomicFile {
    /// Replaces `path` with the first `prefixLength` bytes of `source` followed by `rest`, the
    /// same way as ``replace(_:with:faultHook:)`` (temp, fsync, rename, fsync of the folder:
    /// readers see the old file or the new one), and returns the new file's status (its
    /// identity: device, inode, size, mtime). The prefix is copied in the kernel
    /// (`copy_file_range`, which shares extents where the filesystem can), or read and written
    /// where the kernel cannot (`EXDEV`, `EINVAL`, `ENOSYS`, `EOPNOTSUPP`).
    ///
    /// The corresponding C functions are `openat`, `copy_file_range` (or `pread` and `write`),
    /// `write`, `fsync`, `fstat`, `renameat` and `fsync` of the folder.
    @discardableResult
    public static func replace(_ path: String, prefix prefixLength: Int, of source: FileDescriptor?, then rest: [UInt8],
                               faultHook: ((Step) -> Void)? = nil) throws -> FileStatus {
        let folder = try RootDirectory(Path.parent(path))
        let name = Path.basename(path)
        return try folder.replace(name, prefix: prefixLength, of: source, then: rest, tempName: tempName(for: name),
                                  faultHook: faultHook)
    }

    /// Copies bytes 0..<count of `source` to `target` at its offset, in the kernel where it can.
    static func copyPrefix(_ count: Int, from source: FileDescriptor, to target: FileDescriptor) throws {
        var offset: Int64 = 0
        if let copy = GNU.copy_file_range {
            while offset < Int64(count) {
                let n = copy(source.rawValue, &offset, target.rawValue, nil, count - Int(offset), 0)
                if n > 0 { continue } // offset advanced by the kernel
                if n == 0 { throw SystemError(operation: "copy_file_range", path: source.path, errno: Errno(rawValue: EIO)) } // the source is shorter than said
                let e = Errno.current
                if e == .interrupted { continue }
                guard [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP].contains(e.rawValue) else {
                    throw SystemError(operation: "copy_file_range", path: source.path, errno: e)
                }
                break // this filesystem pair cannot: read and write the rest
            }
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while offset < Int64(count) {
            let want = min(buffer.count, count - Int(offset))
            let n = try buffer.withUnsafeMutableBytes { raw in
                try valueOrErrno("pread", path: source.path) { Glibc.pread(source.rawValue, raw.baseAddress, want, off_t(offset)) }
            }
            if n == 0 { throw SystemError(operation: "pread", path: source.path, errno: Errno(rawValue: EIO)) }
            try target.writeAll(Array(buffer[0..<n]))
            offset += Int64(n)
        }
    }
}
