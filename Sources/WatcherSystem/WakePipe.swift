#if canImport(Glibc)
import Glibc
#endif

/// A self-pipe: any thread calls ``wake()`` to make ``readFD`` readable and so
/// end a ``Poller/wait(_:timeoutMilliseconds:)`` early.
public final class WakePipe: @unchecked Sendable {
    private let readEnd: FileDescriptor
    private let writeEnd: FileDescriptor

    /// The corresponding C function is `pipe2(O_NONBLOCK|O_CLOEXEC)`.
    public init() throws {
        var fds: [Int32] = [-1, -1]
        if let pipe2 = GNU.pipe2 {
            _ = try valueOrErrno("pipe2") { pipe2(&fds, O_NONBLOCK | O_CLOEXEC) }
        } else {
            _ = try valueOrErrno("pipe") { pipe(&fds) }
            for fd in fds {
                _ = try valueOrErrno("fcntl") { fcntl(fd, F_SETFD, FD_CLOEXEC) }
                _ = try valueOrErrno("fcntl") { fcntl(fd, F_SETFL, O_NONBLOCK) }
            }
        }
        readEnd = FileDescriptor(owning: fds[0], path: "wake pipe")
        writeEnd = FileDescriptor(owning: fds[1], path: "wake pipe")
    }

    /// The descriptor to poll.
    public var readFD: Int32 { readEnd.rawValue }

    /// Makes ``readFD`` readable. Safe from any thread. A full pipe (`EAGAIN`)
    /// already means a wake-up is pending, so it is success; no other error can
    /// happen on a pipe whose read end this object keeps open.
    ///
    /// The corresponding C function is `write`.
    public func wake() {
        var byte: UInt8 = 1
        while Glibc.write(writeEnd.rawValue, &byte, 1) == -1 && Errno.current == .interrupted {}
    }

    /// Empties the pipe, so that ``readFD`` is readable again only after the next ``wake()``.
    /// Like ``wake()`` it cannot fail: the pipe is non-blocking and owned by this object.
    ///
    /// The corresponding C function is `read`.
    public func drain() {
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let n = Glibc.read(readEnd.rawValue, &buffer, buffer.count)
            if n > 0 { continue }
            if n == -1 && Errno.current == .interrupted { continue }
            return  // 0 cannot happen (we hold the write end); -1 is EAGAIN: empty
        }
    }
}
