import Glibc
import WatcherCore
import WatcherSystem

/// `agent-watcher dashboard` on a root, on a free loopback port, with its token.
final class DashboardRun {
    let proc: Proc
    let port: Int
    let token: String
    let root: String

    init(_ bench: Bench, root: String, extra: [String] = []) throws {
        self.root = root
        let out = root + "/dashboard.out"
        let p = try Proc("agent-watcher dashboard", [bench.watcherBinary, "dashboard", "--root", root, "--listen", "127.0.0.1:0"] + extra, output: out)
        proc = p
        var url: Substring?
        waitUntil(timeout: 120, interval: 0.005) {
            url = (Files.text(out) ?? "").split(separator: "\n").first { $0.hasPrefix("dashboard: http://") }
            return url != nil || !p.running
        }
        // dashboard: http://127.0.0.1:PORT/?token=TOKEN
        guard let url, let portPart = url.split(separator: ":").dropFirst(3).first?.split(separator: "/").first, let p = Int(portPart),
              let t = url.split(separator: "=").last else {
            throw DashboardScenario.Failure("the dashboard printed no URL: \(Files.text(out) ?? "")")
        }
        port = p
        token = String(t)
    }

    /// Appends a record to the log, so the next request replays it.
    func restartCache() {
        let path = root + "/logs/events.jsonl"
        guard let last = (Files.text(path) ?? "").split(separator: "\n").last, let r = try? EventRecord.decode(Array(last.utf8)[...]) else { return }
        let next = EventRecord(seq: r.seq + 1, ts: r.ts, event: Event(event: EventName.watchRescan, details: [.init("files", .int(0))]))
        guard let fd = try? FileDescriptor.open(path, O_WRONLY | O_APPEND) else { return }
        try? fd.writeAll(next.encoded())
        try? fd.close()
        // The dashboard reads it when inotify says so; a request sent now may come first. Wait until
        // /api/events says it was read (a cheap request that does not replay).
        waitUntil(timeout: 10, interval: 0.001) {
            guard let res = try? get("/api/events?since=\(r.seq)") else { return false }
            return res.text.contains("\"seq\":\(r.seq + 1)")
        }
    }

    struct Answer {
        var status: Int
        var bytes: Int
        var seconds: Double
        var text: String
    }

    /// One GET over a fresh loopback connection; the body's size and the time to its last byte.
    func get(_ path: String) throws -> Answer? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DashboardScenario.Failure("socket: errno \(errno)") }
        defer { Glibc.close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let t0 = Now.mono()
        let c = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard c == 0 else { throw DashboardScenario.Failure("connect: errno \(errno)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw DashboardScenario.Failure("write: errno \(errno)") }
            sent += n
        }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += buf[0..<n]
        }
        let seconds = Now.mono() - t0
        guard let headEnd = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 })
        else { return nil }
        let head = String(decoding: bytes[..<headEnd], as: UTF8.self)
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        let body = bytes[(headEnd + 4)...]
        return Answer(status: status, bytes: body.count, seconds: seconds, text: body.count < 1 << 20 ? String(decoding: body, as: UTF8.self) : "")
    }
}
