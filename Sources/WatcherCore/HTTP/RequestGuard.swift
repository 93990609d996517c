/// The checks every request passes before routing: `Host` must name the listen address
/// (DNS rebinding), `Origin`, when sent, must be this origin, and the token must match.
public struct RequestGuard: Equatable, Sendable {
    /// Host header values accepted (`127.0.0.1:8765`, `localhost:8765`); empty means any
    /// host with the right port (a wildcard listen address with `--allow-remote`).
    public var hosts: Set<String>
    public var port: Int
    public var token: String

    public init(listenHost: String, port: Int, token: String) {
        self.port = port
        self.token = token
        if listenHost == "0.0.0.0" || listenHost == "::" {
            hosts = []
        } else if listenHost == "127.0.0.1" || listenHost == "localhost" {
            hosts = ["127.0.0.1:\(port)", "localhost:\(port)"]
        } else {
            hosts = ["\(listenHost):\(port)"]
        }
    }

    public enum Verdict: Equatable, Sendable {
        case allowed
        /// The token came in the query: set the cookie and redirect to the same address without it.
        case setCookie(location: String)
        case refused(status: Int, message: String)
    }

    public func check(_ r: HTTPRequest) -> Verdict {
        guard let host = r.header("host"), hostAllowed(host) else {
            return .refused(status: 421, message: "the Host header does not name this dashboard's address")
        }
        if let origin = r.header("origin"), origin != "http://\(host)" {
            return .refused(status: 403, message: "cross-origin request refused")
        }
        if let presented = DashboardToken.presented(by: r), DashboardToken.matches(presented, token) { return .allowed }
        if r.method == "GET", let q = r.queryValue("token"), DashboardToken.matches(q, token) {
            let rest = r.query.filter { $0.name != "token" }
            return .setCookie(location: r.path + (rest.isEmpty ? "" : "?" + rest.map { "\($0.name)=\($0.value)" }.joined(separator: "&")))
        }
        return .refused(status: 403, message: "missing or wrong token: open the URL 'agent-watcher dashboard' printed (the token is in logs/dashboard.token)")
    }

    func hostAllowed(_ host: String) -> Bool {
        if hosts.isEmpty { return host.hasSuffix(":\(port)") }
        return hosts.contains(host.lowercased())
    }
}
