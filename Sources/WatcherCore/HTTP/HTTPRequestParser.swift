/// The dashboard's HTTP/1.1 request parser: a pure function over the bytes received so far.
/// It returns one request and how many bytes it used (the rest is the next, pipelined,
/// request), `incomplete`, or a failure with the status to answer before closing.
///
/// Limits: request line and headers together at most `headerLimit` bytes (431 beyond),
/// bodies at most `bodyLimit` bytes (413), announced by `Content-Length` only: a chunked
/// body is refused with 411 (send a length), any other transfer coding with 501.
public enum HTTPRequestParser {
    public struct Limits: Equatable, Sendable {
        public var headerBytes: Int
        public var bodyBytes: Int
        public init(headerBytes: Int = 16 * 1024, bodyBytes: Int = 64 * 1024) {
            self.headerBytes = headerBytes
            self.bodyBytes = bodyBytes
        }
    }

    public struct Failure: Error, Equatable, Sendable {
        public var status: Int
        public var message: String
        public init(_ status: Int, _ message: String) { self.status = status; self.message = message }
    }

    public enum Result: Equatable, Sendable {
        case incomplete
        case request(HTTPRequest, consumed: Int)
        case failure(Failure)
    }

    public static func parse(_ bytes: ArraySlice<UInt8>, limits: Limits = Limits()) -> Result {
        var start = bytes.startIndex
        // RFC 9112 2.2: ignore empty lines before the request line.
        while start + 1 < bytes.endIndex, bytes[start] == 0x0D, bytes[start + 1] == 0x0A { start += 2 }
        guard let end = headerEnd(bytes, from: start, limit: limits.headerBytes) else {
            if bytes.endIndex - start > limits.headerBytes {
                return .failure(Failure(431, "request line and headers exceed \(limits.headerBytes) bytes"))
            }
            if let bad = bareLineFeed(bytes[start...]) { return .failure(bad) }
            return .incomplete
        }
        let head = bytes[start..<end]
        let lines = splitLines(head)
        guard let requestLine = lines.first else { return .failure(Failure(400, "empty request")) }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(Failure(400, "malformed request line")) }
        let method = String(decoding: parts[0], as: UTF8.self)
        guard !method.isEmpty, parts[0].allSatisfy(isTokenByte) else { return .failure(Failure(400, "malformed method")) }
        let target = String(decoding: parts[1], as: UTF8.self)
        guard parts[1].first == UInt8(ascii: "/"), parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .failure(Failure(400, "the request target must be a path starting with '/'"))
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version.hasPrefix("HTTP/") else { return .failure(Failure(400, "malformed HTTP version")) }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { return .failure(Failure(505, "only HTTP/1.1 and HTTP/1.0 are served")) }

        var headers: [HTTPRequest.Header] = []
        for line in lines.dropFirst() {
            if line.first == 0x20 || line.first == 0x09 { return .failure(Failure(400, "obsolete header line folding")) }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return .failure(Failure(400, "header line without ':'")) }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else { return .failure(Failure(400, "malformed header name")) }
            var value = line[(colon + 1)...]
            while let f = value.first, f == 0x20 || f == 0x09 { value = value.dropFirst() }
            while let l = value.last, l == 0x20 || l == 0x09 { value = value.dropLast() }
            guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                return .failure(Failure(400, "control character in a header value"))
            }
            headers.append(.init(String(decoding: name, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self)))
        }
        var request = HTTPRequest(method: method, target: target, version: version, headers: headers)
        if version == "HTTP/1.1", headers.filter({ $0.name == "host" }).count != 1 {
            return .failure(Failure(400, "HTTP/1.1 needs exactly one Host header"))
        }
        if let te = request.header("transfer-encoding") {
            return te.lowercased().contains("chunked")
                ? .failure(Failure(411, "chunked bodies are not accepted; send Content-Length"))
                : .failure(Failure(501, "transfer coding '\(te)' is not implemented"))
        }
        var length = 0
        let lengths = Set(headers.filter { $0.name == "content-length" }.map(\.value))
        if lengths.count > 1 { return .failure(Failure(400, "conflicting Content-Length headers")) }
        if let text = lengths.first {
            guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(text) else {
                return .failure(Failure(400, "malformed Content-Length"))
            }
            guard n <= limits.bodyBytes else { return .failure(Failure(413, "body of \(n) bytes exceeds \(limits.bodyBytes)")) }
            length = n
        }
        let bodyStart = end + 4
        guard bytes.endIndex - bodyStart >= length else { return .incomplete }
        request.body = Array(bytes[bodyStart..<(bodyStart + length)])
        return .request(request, consumed: bodyStart + length - bytes.startIndex)
    }

    /// The index of the `\r\n\r\n` that ends the head, searched within `limit` bytes.
    static func headerEnd(_ b: ArraySlice<UInt8>, from start: Int, limit: Int) -> Int? {
        let stop = min(b.endIndex, start + limit + 4)
        var i = start
        while i + 3 < stop {
            if b[i] == 0x0D, b[i + 1] == 0x0A, b[i + 2] == 0x0D, b[i + 3] == 0x0A { return i }
            i += 1
        }
        return nil
    }

    /// A `\n` not after `\r`: refused early, so a client speaking bare-LF is not left waiting.
    static func bareLineFeed(_ b: ArraySlice<UInt8>) -> Failure? {
        var i = b.startIndex
        while i < b.endIndex {
            if b[i] == 0x0A, i == b.startIndex || b[i - 1] != 0x0D { return Failure(400, "line ends in a bare LF; HTTP needs CRLF") }
            i += 1
        }
        return nil
    }

    /// Lines of the head (split on CRLF); a stray CR or LF inside a line is left for the checks.
    static func splitLines(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var s = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == 0x0D, i + 1 < head.endIndex, head[i + 1] == 0x0A {
                lines.append(head[s..<i])
                i += 2
                s = i
            } else {
                i += 1
            }
        }
        lines.append(head[s..<head.endIndex])
        return lines
    }

    /// RFC 9110 `tchar`.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(b)
        }
    }
}
