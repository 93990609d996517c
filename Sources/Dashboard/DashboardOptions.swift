/// How `agent-watcher dashboard` serves: where it listens and its bounds.
public struct DashboardOptions: Sendable {
    public var root: String
    public var host = "127.0.0.1"
    /// 0: any free port (the URL printed names the one chosen).
    public var port = 8765
    public var allowRemote = false
    /// A client has this long to send a whole request (head and body); then it is cut off.
    public var headerTimeoutMilliseconds = 10_000
    public var maxConnections = 128
    public var maxStreams = 32
    /// How long a `POST /api/control` waits for the daemon's answer.
    public var controlTimeoutSeconds = 30.0

    public init(root: String) { self.root = root }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads `HOST:PORT` (`--listen`); a host other than loopback needs `allowRemote`.
    public mutating func setListen(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let p = Int(text[text.index(after: colon)...]), (0...65535).contains(p) else {
            throw Invalid(description: "--listen expects HOST:PORT (e.g. 127.0.0.1:8765), got '\(text)'")
        }
        host = String(text[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        port = p
    }

    public func check() throws {
        if !host.hasPrefix("127.") && !allowRemote {
            throw Invalid(description: "refusing to listen on \(host): the dashboard can change state; pass --allow-remote to listen beyond loopback")
        }
    }
}
