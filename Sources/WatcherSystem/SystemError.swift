#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: what was attempted, on which path, and the ``Errno``.
///
/// Its description reads like `open(/x/y): No such file or directory`.
public struct SystemError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The operation, usually the C function name (`open`, `rename`, `spawn` ...).
    public let operation: String
    /// The path the operation was about, when there is one.
    public let path: String?
    /// The error number.
    public let errno: Errno

    public init(operation: String, path: String? = nil, errno: Errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        if let path {
            return "\(operation)(\(path)): \(errno)"
        }
        return "\(operation): \(errno)"
    }
}

// MARK: - The one place EINTR is retried

/// Calls `body` (a C call returning -1 and setting `errno` on failure) until it
/// does not fail with `EINTR`, and turns -1 into a ``SystemError``.
@inline(__always)
internal func valueOrErrno<T: BinaryInteger>(
    _ operation: String,
    path: String? = nil,
    retryingOnInterrupt: Bool = true,
    _ body: () -> T
) throws -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let errno = Errno.current
        if retryingOnInterrupt && errno == .interrupted { continue }
        throw SystemError(operation: operation, path: path, errno: errno)
    }
}

/// Like ``valueOrErrno(_:path:retryingOnInterrupt:_:)`` for the calls that return
/// the error number itself (`posix_spawn`, `pthread_sigmask` ...) rather than -1.
@inline(__always)
internal func zeroOrErrno(
    _ operation: String,
    path: String? = nil,
    _ body: () -> Int32
) throws {
    while true {
        let result = body()
        if result == 0 { return }
        if result == EINTR { continue }
        throw SystemError(operation: operation, path: path, errno: Errno(rawValue: result))
    }
}
