#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor that this object owns: it is closed by ``close()``,
/// or in `deinit` unless it was closed or ``release()``d first.
///
/// Every error is a ``SystemError`` carrying the path the descriptor was opened
/// with, when known. The object is not synchronised: use it from one thread at a
/// time (it is `Sendable` so that it may be handed over between threads).
public final class FileDescriptor: @unchecked Sendable {
    /// The raw descriptor number.
    public let rawValue: Int32
    /// The path it was opened with, if any (for error messages).
    public let path: String?
    private var isOwned = true

    /// Takes ownership of `rawValue`.
    public init(owning rawValue: Int32, path: String? = nil) {
        self.rawValue = rawValue
        self.path = path
    }

    deinit {
        if isOwned {
            // No caller is left to hand a close error to.
            _ = Glibc.close(rawValue)
        }
    }

    /// Opens `path`; `O_CLOEXEC` is always added to `flags`.
    ///
    /// The corresponding C function is `open`.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> FileDescriptor {
        let fd = try valueOrErrno("open", path: path) {
            Glibc.open(path, flags | O_CLOEXEC, mode)
        }
        return FileDescriptor(owning: fd, path: path)
    }

    /// Closes the descriptor. It is never retried: Linux frees the number even
    /// when `close` fails, so the error is only reported.
    ///
    /// The corresponding C function is `close`.
    public func close() throws {
        guard isOwned else { return }
        isOwned = false
        _ = try valueOrErrno("close", path: path, retryingOnInterrupt: false) {
            Glibc.close(rawValue)
        }
    }

    /// Gives up ownership and returns the raw descriptor, which the caller must close.
    public func release() -> Int32 {
        isOwned = false
        return rawValue
    }

    // MARK: Reading

    /// Reads at most `count` bytes; an empty result means end of file.
    ///
    /// On a non-blocking descriptor with nothing to read this throws a
    /// ``SystemError`` with ``Errno/wouldBlock`` (match it with `catch Errno.wouldBlock`).
    ///
    /// The corresponding C function is `read`.
    public func read(upTo count: Int) throws -> [UInt8] {
        precondition(count >= 0, "negative read size")
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            let n = try valueOrErrno("read", path: path) {
                Glibc.read(rawValue, buffer.baseAddress, count)
            }
            initialized = n
        }
    }

    /// Reads until end of file.
    public func readAll() throws -> [UInt8] {
        var result: [UInt8] = []
        let chunk = 64 * 1024
        while true {
            let bytes = try read(upTo: chunk)
            if bytes.isEmpty { return result }
            result.append(contentsOf: bytes)
        }
    }

    // MARK: Writing

    /// Writes all of `bytes`, looping over partial writes.
    ///
    /// The corresponding C function is `write`.
    public func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = try valueOrErrno("write", path: path) {
                    Glibc.write(rawValue, raw.baseAddress! + offset, raw.count - offset)
                }
                offset += n
            }
        }
    }

    /// Writes the UTF-8 bytes of `string`.
    public func writeAll(_ string: String) throws {
        try writeAll(Array(string.utf8))
    }

    /// Writes all of `bytes` at `offset` without moving the file offset.
    ///
    /// The corresponding C function is `pwrite`.
    public func pwriteAll(_ bytes: [UInt8], offset: Int64) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = try valueOrErrno("pwrite", path: path) {
                    Glibc.pwrite(rawValue, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                }
                done += n
            }
        }
    }

    // MARK: Metadata and durability

    /// Flushes data and metadata to the device.
    ///
    /// The corresponding C function is `fsync`.
    public func fsync() throws {
        _ = try valueOrErrno("fsync", path: path) { Glibc.fsync(rawValue) }
    }

    /// Flushes data (and the metadata needed to read it back) to the device.
    ///
    /// The corresponding C function is `fdatasync`.
    public func fdatasync() throws {
        _ = try valueOrErrno("fdatasync", path: path) { Glibc.fdatasync(rawValue) }
    }

    /// The status of the open file.
    ///
    /// The corresponding C function is `fstat`.
    public func stat() throws -> FileStatus {
        var s = Glibc.stat()
        _ = try valueOrErrno("fstat", path: path) { Glibc.fstat(rawValue, &s) }
        return FileStatus(s)
    }

    /// Sets the file's size to `size` bytes.
    ///
    /// The corresponding C function is `ftruncate`.
    public func truncate(to size: Int64) throws {
        _ = try valueOrErrno("ftruncate", path: path) { Glibc.ftruncate(rawValue, off_t(size)) }
    }

    /// Moves the file offset to the end and returns it (the file's size).
    ///
    /// The corresponding C function is `lseek` with `SEEK_END`.
    @discardableResult
    public func seekToEnd() throws -> Int64 {
        Int64(try valueOrErrno("lseek", path: path) { Glibc.lseek(rawValue, 0, SEEK_END) })
    }

    /// Moves the file offset to `offset` from the start.
    ///
    /// The corresponding C function is `lseek` with `SEEK_SET`.
    public func seek(to offset: Int64) throws {
        _ = try valueOrErrno("lseek", path: path) { Glibc.lseek(rawValue, off_t(offset), SEEK_SET) }
    }
}
