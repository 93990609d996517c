#if canImport(Glibc)
import Glibc
#endif

/// A pipe for a child's output: the write end is given to the child (``SpawnRequest``'s
/// `outputDescriptor` or `errorDescriptor`) and closed here after the spawn; the read end stays.
/// Both ends are close-on-exec (the spawn dups the write end onto the child's stream).
public struct OutputPipe: Sendable {
    public let read: FileDescriptor
    public let write: FileDescriptor

    /// `nonBlockingRead`: the read end for a poll loop (the write end stays blocking, so the
    /// child never sees `EAGAIN`).
    ///
    /// The corresponding C functions are `pipe2(O_CLOEXEC)` and `fcntl(F_SETFL, O_NONBLOCK)`.
    public init(nonBlockingRead: Bool) throws {
        var fds: [Int32] = [-1, -1]
        if let pipe2 = GNU.pipe2 {
            _ = try valueOrErrno("pipe2") { pipe2(&fds, O_CLOEXEC) }
        } else {
            _ = try valueOrErrno("pipe") { pipe(&fds) }
            for fd in fds { _ = try valueOrErrno("fcntl") { fcntl(fd, F_SETFD, FD_CLOEXEC) } }
        }
        read = FileDescriptor(owning: fds[0], path: "pipe")
        write = FileDescriptor(owning: fds[1], path: "pipe")
        if nonBlockingRead {
            let flags = try valueOrErrno("fcntl") { fcntl(fds[0], F_GETFL) }
            _ = try valueOrErrno("fcntl") { fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) }
        }
    }
}

/// A short command run to its end (`scancel`, `squeue`): its standard output and error, and
/// how it ended. Not for agents (they are the daemon's children with a lifetime); it blocks.
public enum ShortCommand {
    public static func run(_ argv: [String], environment: [String: String] = SpawnRequest.currentEnvironment())
        throws -> (status: ExitStatus, output: String) {
        let pipe = try OutputPipe(nonBlockingRead: false)
        var request = SpawnRequest(argv: argv, environment: environment, outputPath: "/dev/null")
        request.outputDescriptor = pipe.write.rawValue
        let pid: pid_t
        do { pid = try Spawner.spawn(request) } catch {
            try? pipe.write.close()
            try? pipe.read.close()
            throw error
        }
        try pipe.write.close()
        let bytes = try pipe.read.readAll()
        try pipe.read.close()
        let status = try ProcessControl.waitBlocking(pid)
        return (status, String(decoding: bytes, as: UTF8.self))
    }
}
