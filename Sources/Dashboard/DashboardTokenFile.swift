import Glibc
import WatcherCore
import WatcherSystem

/// `logs/dashboard.token`: 128 random bits from `/dev/urandom` as hex, mode 0600. The only file
/// the dashboard writes.
enum DashboardTokenFile {
    static func create(in logs: String) throws -> String {
        let random = try FileDescriptor.open("/dev/urandom", O_RDONLY)
        let bytes = try random.read(upTo: 16)
        try random.close()
        guard bytes.count == 16 else { throw DashboardOptions.Invalid(description: "/dev/urandom gave \(bytes.count) bytes, not 16") }
        let token = DashboardToken.hex(bytes)
        try FileSystem.createDirectory(logs)
        let path = logs + "/dashboard.token"
        // Never through a link (its target would get the token), never waiting on a FIFO, never
        // emptying a file that has another name: only a plain file of its own is truncated.
        let fd = try FileDescriptor.open(path, O_CREAT | O_WRONLY | O_NOFOLLOW | O_NONBLOCK, mode: 0o600)
        let status = try fd.stat()
        guard status.kind == .regular && status.linkCount == 1 else {
            try fd.close()
            throw DashboardOptions.Invalid(description: "\(path) is a \(status.kind == .regular ? "file with \(status.linkCount) hard links" : status.kind.rawValue), "
                + "not the dashboard's token file: move it away and start again")
        }
        guard fchmod(fd.rawValue, 0o600) == 0 else { throw SystemError(operation: "fchmod", path: path, errno: Errno(rawValue: errno)) }
        try fd.truncate(to: 0)
        try fd.writeAll(token + "\n")
        try fd.fsync()
        try fd.close()
        return token
    }
}
