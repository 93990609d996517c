/// One parsed HTTP/1.1 request: what ``HTTPRequestParser`` returns.
public struct HTTPRequest: Equatable, Sendable {
    public struct Header: Equatable, Sendable {
        /// Lowercased.
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    public var method: String
    /// The request target as sent (`/run/x?since=3`).
    public var target: String
    public var version: String
    public var headers: [Header]
    public var body: [UInt8]

    public init(method: String, target: String, version: String = "HTTP/1.1", headers: [Header] = [], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name == n }?.value
    }

    /// The target before `?`.
    public var path: String {
        target.firstIndex(of: "?").map { String(target[..<$0]) } ?? target
    }

    /// The query's `name=value` pairs, percent-decoded (`+` is a space); nil values become "".
    public var query: [(name: String, value: String)] {
        guard let q = target.firstIndex(of: "?") else { return [] }
        return target[target.index(after: q)...].split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (PercentDecoding.decode(parts[0]), parts.count > 1 ? PercentDecoding.decode(parts[1]) : "")
        }
    }

    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// HTTP/1.1 keeps the connection unless `Connection: close`; HTTP/1.0 closes unless `keep-alive`.
    public var keepAlive: Bool {
        let c = header("connection")?.lowercased() ?? ""
        return version == "HTTP/1.0" ? c.contains("keep-alive") : !c.contains("close")
    }
}

/// `%XX` and `+` decoding for query strings; a malformed escape is kept as written.
public enum PercentDecoding {
    public static func decode<S: StringProtocol>(_ s: S) -> String {
        var out: [UInt8] = []
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(0x20)
            } else if b == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
