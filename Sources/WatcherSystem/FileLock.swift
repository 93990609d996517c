#if canImport(Glibc)
import Glibc
#endif

/// An exclusive, advisory, whole-file lock (`flock`) that says "this process
/// owns that folder". The kernel drops it when the process dies, so a stale lock
/// file is never a problem; the file itself is left in place.
///
/// The holder's pid is written into the file for humans (`cat <root>/.lock`).
public final class FileLock: @unchecked Sendable {
    /// Why ``acquire(_:)`` failed in a way the user should be told about.
    public enum Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        /// Another open file description holds the lock (another process, or
        /// another ``FileLock`` on the same path in this one).
        case held(path: String)

        public var description: String {
            switch self {
            case .held(let path): return "\(path) is locked by another process"
            }
        }
    }

    /// The lock file's path.
    public let path: String
    private let descriptor: FileDescriptor
    private var isHeld = true

    private init(path: String, descriptor: FileDescriptor) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Opens (creating it if needed) `path` and takes an exclusive lock without
    /// waiting. Throws ``Error/held(path:)`` if someone else holds it.
    ///
    /// The corresponding C functions are `open(O_CREAT|O_RDWR|O_CLOEXEC)` and
    /// `flock(LOCK_EX|LOCK_NB)`.
    public static func acquire(_ path: String) throws -> FileLock {
        // Never through a link, never waiting on a FIFO: the pid is written into this file.
        let fd = try FileDescriptor.open(path, O_CREAT | O_RDWR | O_NOFOLLOW | O_NONBLOCK, mode: 0o644)
        do {
            _ = try valueOrErrno("flock", path: path) { flock(fd.rawValue, LOCK_EX | LOCK_NB) }
        } catch Errno.wouldBlock {
            try fd.close()
            throw Error.held(path: path)
        }
        try fd.truncate(to: 0)
        try fd.pwriteAll(Array("\(getpid())\n".utf8), offset: 0)
        return FileLock(path: path, descriptor: fd)
    }

    /// Releases the lock now by closing the descriptor. Calling it twice is fine;
    /// dropping the last reference does the same.
    ///
    /// It does not throw: Linux frees the descriptor, and with it the lock, even
    /// when `close` reports an error, and nothing was written through it since
    /// the pid, so there is nothing a caller could do about such an error.
    ///
    /// The corresponding C function is `close`.
    public func release() {
        guard isHeld else { return }
        isHeld = false
        _ = descriptor.release()
        Glibc.close(descriptor.rawValue)
    }
}
