import Glibc
import WatcherSystem

/// A non-blocking IPv4 TCP listening socket and the calls on accepted sockets the server uses.
final class ListeningSocket {
    let fd: Int32
    let port: Int

    init(host: String, port: Int) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw SystemError(operation: "socket", errno: Errno(rawValue: errno)) }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port)).bigEndian
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            Glibc.close(s)
            throw DashboardOptions.Invalid(description: "'\(host)' is not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(s, 1024) == 0 else {
            let e = errno
            Glibc.close(s)
            throw SystemError(operation: "bind/listen", path: "\(host):\(port)", errno: Errno(rawValue: e))
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
        }
        fd = s
        self.port = Int(UInt16(bigEndian: actual.sin_port))
    }

    /// The next pending connection, non-blocking, or nil when none is waiting.
    func accept() -> Int32? {
        let c = Glibc.accept(fd, nil, nil)
        guard c >= 0 else { return nil }
        _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
        _ = fcntl(c, F_SETFD, FD_CLOEXEC)
        return c
    }

    /// Bytes read (empty: the peer closed), or nil when nothing is there now.
    static func read(_ fd: Int32, max: Int = 65536) throws -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: max)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, 0) }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return nil }
            throw SystemError(operation: "recv", errno: Errno(rawValue: errno))
        }
        return Array(buf[..<n])
    }

    /// Writes what the socket takes now; returns how many bytes went.
    static func write(_ fd: Int32, _ bytes: ArraySlice<UInt8>) throws -> Int {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
            throw SystemError(operation: "send", errno: Errno(rawValue: errno))
        }
        return n
    }
}
