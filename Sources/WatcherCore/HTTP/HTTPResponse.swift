/// A response to render: status, headers in order, body. ``head(keepAlive:)`` adds
/// `Content-Length` (unless streamed), `Connection` and the security headers every answer carries.
public struct HTTPResponse: Equatable, Sendable {
    public var status: Int
    public var headers: [HTTPRequest.Header]
    public var body: [UInt8]
    /// A stream (Server-Sent Events): no Content-Length, the connection stays open.
    public var streamed = false

    public init(status: Int, contentType: String? = nil, body: [UInt8] = [], headers: [HTTPRequest.Header] = []) {
        self.status = status
        self.body = body
        self.headers = headers
        if let contentType { self.headers.insert(.init("Content-Type", contentType), at: 0) }
    }

    public static func html(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/html; charset=utf-8", body: Array(text.utf8))
    }

    public static func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: value.serialized() + [0x0A])
    }

    public static func text(_ text: String, status: Int) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8))
    }

    /// An error answer: JSON `{"error": status, "message": ...}`.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(.object([("error", .number(Double(status))), ("message", .string(message))]), status: status)
    }

    /// The policy: scripts, styles, images and connections from this origin only; no inline
    /// script or style, no frames, no plugins.
    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    public func head(keepAlive: Bool) -> [UInt8] {
        var s = "HTTP/1.1 \(status) \(HTTPResponse.reason(status))\r\n"
        for h in headers { s += "\(h.name): \(h.value)\r\n" }
        if !streamed { s += "Content-Length: \(body.count)\r\n" }
        s += "Connection: \(keepAlive ? "keep-alive" : "close")\r\n"
        s += "Content-Security-Policy: \(HTTPResponse.contentSecurityPolicy)\r\n"
        s += "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n"
        if !headers.contains(where: { $0.name.lowercased() == "cache-control" }) { s += "Cache-Control: no-store\r\n" }
        s += "\r\n"
        return Array(s.utf8)
    }

    public func rendered(keepAlive: Bool) -> [UInt8] { head(keepAlive: keepAlive) + (streamed ? [] : body) }

    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 202: "Accepted"
        case 303: "See Other"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 421: "Misdirected Request"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }
}
