import Foundation
import Glibc
import WatcherSystem
import XCTest

/// `agent-watcher dashboard` started in the background on a free port, and the URL it printed.
struct DashboardProcess {
    let child: ChildProcess
    let port: Int
    let token: String
    let url: String

    /// Starts it and waits (inotify on the output folder, no polling) for the printed URL.
    static func start(_ sandbox: Sandbox, _ extra: [String] = [], within seconds: Double = 30) throws -> DashboardProcess {
        try start(sandbox, command: ["dashboard", "--root", sandbox.root, "--listen", "127.0.0.1:0"] + extra, within: seconds)
    }

    /// Starts `agent-watcher COMMAND`, which prints `dashboard: URL` (also `run --dashboard`).
    static func start(_ sandbox: Sandbox, command: [String], within seconds: Double = 30) throws -> DashboardProcess {
        let watch = try Inotify()
        _ = try watch.addWatch(sandbox.root + "/e2e", mask: [.modify, .closeWrite, .create])
        let child = try sandbox.start(command)
        let deadline = Deadline.seconds(seconds)
        while true {
            if let line = child.stdout.split(separator: "\n").first(where: { $0.hasPrefix("dashboard: http://") }) {
                let url = String(line.dropFirst("dashboard: ".count))
                guard let colon = url.dropFirst(7).firstIndex(of: ":"), let slash = url[colon...].firstIndex(of: "/"),
                      let port = Int(url[url.index(after: colon)..<slash]), let t = url.range(of: "token=") else {
                    throw E2EError("cannot read the dashboard's URL from '\(line)'")
                }
                return DashboardProcess(child: child, port: port, token: String(url[t.upperBound...]), url: url)
            }
            if try child.hasExited() { throw E2EError("the dashboard exited: \(child.stderr)") }
            if deadline.hasPassed { throw E2EError("the dashboard printed no URL within \(seconds) s: \(child.stderr)") }
            _ = try Poller.wait([watch.fileDescriptor, child.pidfd.rawValue], timeoutMilliseconds: deadline.pollTimeout)
            _ = try watch.readEvents()
        }
    }

    var host: String { "127.0.0.1:\(port)" }

    /// One request on a fresh connection; the response's status, headers and body.
    func request(_ method: String = "GET", _ path: String, headers: [String: String] = [:], body: String = "",
                 token: Bool = true, within seconds: Double = 30) throws -> RawHTTPResponse {
        let c = try RawHTTPClient(port: port)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(headers["Host"] ?? host)\r\nConnection: close\r\n"
        if token { head += "Authorization: Bearer \(self.token)\r\n" }
        for (k, v) in headers where k != "Host" { head += "\(k): \(v)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.utf8.count)\r\n" }
        try c.send(Array((head + "\r\n" + body).utf8))
        return try c.readResponse(deadline: .seconds(seconds))
    }
}

struct RawHTTPResponse {
    var status: Int
    var head: String
    var body: String
}

/// A plain TCP client to 127.0.0.1 for hostile-client tests.
final class RawHTTPClient {
    let fd: Int32

    init(port: Int, nonBlocking: Bool = false) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw E2EError("socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port)).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else { let e = errno; Glibc.close(fd); throw E2EError("connect: errno \(e)") }
        if nonBlocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw E2EError("send: errno \(errno)") }
            off += n
        }
    }

    /// Whether the socket has something to read (data or EOF) within `milliseconds`.
    func readable(within milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, milliseconds) > 0
    }

    /// Reads until the head and `Content-Length` bytes of body are in, or EOF, or the deadline.
    func readResponse(deadline: Deadline) throws -> RawHTTPResponse {
        var bytes: [UInt8] = []
        while true {
            if let r = RawHTTPClient.complete(bytes) { return r }
            guard !deadline.hasPassed, readable(within: deadline.pollTimeout) else {
                throw E2EError("no complete response before the deadline; got \(bytes.count) bytes: \(String(decoding: bytes.prefix(300), as: UTF8.self))")
            }
            var buf = [UInt8](repeating: 0, count: 65536)
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
            if n <= 0 {
                if let r = RawHTTPClient.complete(bytes, eof: true) { return r }
                throw E2EError("connection closed after \(bytes.count) bytes (errno \(errno)): \(String(decoding: bytes.prefix(300), as: UTF8.self))")
            }
            bytes += buf[..<n]
        }
    }

    static func complete(_ bytes: [UInt8], eof: Bool = false) -> RawHTTPResponse? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = String(text[..<end.lowerBound])
        let body = String(text[end.upperBound...])
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
        if let length, body.utf8.count >= length { return RawHTTPResponse(status: status, head: head, body: body) }
        return eof ? RawHTTPResponse(status: status, head: head, body: body) : nil
    }
}
