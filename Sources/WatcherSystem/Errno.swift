#if canImport(Glibc)
import Glibc
#endif

/// An error number returned by a system call, as found in `errno`.
///
/// Match it in a `catch` clause with `catch Errno.wouldBlock`; the pattern also
/// matches a ``SystemError`` carrying that errno.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The raw C error number.
    public let rawValue: Int32

    /// Creates a value from a raw C error number.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The value of `errno` for the calling thread, right now.
    public static var current: Errno {
        Errno(rawValue: Glibc.errno)
    }

    /// The message `strerror` gives for this error number.
    ///
    /// The corresponding C function is `strerrordesc_np` (thread-safe, unlike
    /// `strerror`), looked up at run time since Swift's Glibc module omits it.
    public var description: String {
        if let text = GNU.strerrordesc_np?(rawValue) {
            return String(cString: text)
        }
        return "errno \(rawValue)"
    }

    /// Interrupted system call (`EINTR`).
    public static var interrupted: Errno { Errno(rawValue: EINTR) }
    /// Resource temporarily unavailable (`EAGAIN`, `EWOULDBLOCK`).
    public static var wouldBlock: Errno { Errno(rawValue: EAGAIN) }
    /// No such file or directory (`ENOENT`).
    public static var noSuchFile: Errno { Errno(rawValue: ENOENT) }
    /// File exists (`EEXIST`).
    public static var exists: Errno { Errno(rawValue: EEXIST) }
    /// No such process (`ESRCH`).
    public static var noSuchProcess: Errno { Errno(rawValue: ESRCH) }
    /// No child processes (`ECHILD`).
    public static var noChild: Errno { Errno(rawValue: ECHILD) }
    /// Not a directory (`ENOTDIR`).
    public static var notDirectory: Errno { Errno(rawValue: ENOTDIR) }
    /// Is a directory (`EISDIR`).
    public static var isDirectory: Errno { Errno(rawValue: EISDIR) }
    /// Too many levels of symbolic links (`ELOOP`); also what `O_NOFOLLOW` reports.
    public static var tooManySymlinks: Errno { Errno(rawValue: ELOOP) }
    /// `ENXIO`: e.g. a FIFO opened for writing without blocking while nobody reads it.
    public static var noDeviceOrAddress: Errno { Errno(rawValue: ENXIO) }
    /// No space left on device (`ENOSPC`); also "inotify watch limit reached".
    public static var noSpace: Errno { Errno(rawValue: ENOSPC) }
    /// Input/output error (`EIO`).
    public static var io: Errno { Errno(rawValue: EIO) }
    /// Permission denied (`EACCES`).
    public static var permissionDenied: Errno { Errno(rawValue: EACCES) }
    /// Operation not permitted (`EPERM`).
    public static var notPermitted: Errno { Errno(rawValue: EPERM) }
    /// Bad file descriptor (`EBADF`).
    public static var badFileDescriptor: Errno { Errno(rawValue: EBADF) }
    /// Invalid argument (`EINVAL`).
    public static var invalidArgument: Errno { Errno(rawValue: EINVAL) }
    /// Cross-device link (`EXDEV`).
    public static var crossDevice: Errno { Errno(rawValue: EXDEV) }
    /// Function not implemented (`ENOSYS`).
    public static var notImplemented: Errno { Errno(rawValue: ENOSYS) }
    /// Directory not empty (`ENOTEMPTY`).
    public static var notEmpty: Errno { Errno(rawValue: ENOTEMPTY) }

    /// Lets `catch Errno.x` match both a bare ``Errno`` and a ``SystemError`` with that errno.
    public static func ~= (pattern: Errno, error: any Error) -> Bool {
        if let e = error as? Errno { return e == pattern }
        if let e = error as? SystemError { return e.errno == pattern }
        return false
    }
}
