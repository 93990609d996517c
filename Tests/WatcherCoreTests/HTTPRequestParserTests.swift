import WatcherCore
import XCTest

final class HTTPRequestParserTests: XCTestCase {
    func parse(_ s: String, _ limits: HTTPRequestParser.Limits = .init()) -> HTTPRequestParser.Result {
        HTTPRequestParser.parse(Array(s.utf8)[...], limits: limits)
    }

    func status(_ s: String, _ limits: HTTPRequestParser.Limits = .init()) -> Int? {
        if case .failure(let f) = parse(s, limits) { return f.status }
        return nil
    }

    func testSimpleGetWithHeadersAndQuery() throws {
        let text = "GET /api/events?since=42&q=a%20b+c HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nX-Thing:  spaced value \r\n\r\n"
        guard case .request(let r, let used) = parse(text) else { return XCTFail("\(parse(text))") }
        XCTAssertEqual(used, text.utf8.count)
        XCTAssertEqual(r.method, "GET")
        XCTAssertEqual(r.path, "/api/events")
        XCTAssertEqual(r.queryValue("since"), "42")
        XCTAssertEqual(r.queryValue("q"), "a b c")
        XCTAssertEqual(r.header("x-thing"), "spaced value")
        XCTAssertEqual(r.header("HOST"), "127.0.0.1:8765")
        XCTAssertTrue(r.keepAlive)
        XCTAssertEqual(r.body, [])
    }

    func testIncompleteUntilTheHeadAndTheBodyAreThere() {
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: a:1\r\n"), .incomplete)
        XCTAssertEqual(parse("POST /api/control HTTP/1.1\r\nHost: a:1\r\nContent-Length: 5\r\n\r\nabc"), .incomplete)
        guard case .request(let r, _) = parse("POST /api/control HTTP/1.1\r\nHost: a:1\r\nContent-Length: 5\r\n\r\nabcde") else {
            return XCTFail()
        }
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "abcde")
    }

    func testPipelinedRequestsAreParsedOneAfterTheOther() throws {
        let one = "GET /a HTTP/1.1\r\nHost: h:1\r\n\r\n"
        let two = "POST /api/control HTTP/1.1\r\nHost: h:1\r\nContent-Length: 2\r\n\r\n{}"
        let three = "GET /c HTTP/1.1\r\nHost: h:1\r\nConnection: close\r\n\r\n"
        let bytes = Array((one + two + three).utf8)
        var offset = 0
        var seen: [String] = []
        while case .request(let r, let used) = HTTPRequestParser.parse(bytes[offset...]) {
            seen.append(r.method + " " + r.target + " " + String(decoding: r.body, as: UTF8.self) + " \(r.keepAlive)")
            offset += used
        }
        XCTAssertEqual(seen, ["GET /a  true", "POST /api/control {} true", "GET /c  false"])
        XCTAssertEqual(offset, bytes.count)
    }

    func testLeadingEmptyLinesAreIgnored() {
        guard case .request(let r, _) = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h:1\r\n\r\n") else { return XCTFail() }
        XCTAssertEqual(r.path, "/")
    }

    func testHeaderLimit() {
        let limits = HTTPRequestParser.Limits(headerBytes: 100, bodyBytes: 10)
        let big = "GET / HTTP/1.1\r\nHost: h:1\r\nX: " + String(repeating: "a", count: 100) + "\r\n\r\n"
        XCTAssertEqual(status(big, limits), 431)
        // An unfinished head over the limit is refused without waiting for its end.
        XCTAssertEqual(status("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200), limits), 431)
        // Just under the limit is fine.
        let fits = "GET / HTTP/1.1\r\nHost: h:1\r\nX: " + String(repeating: "a", count: 60) + "\r\n\r\n"
        XCTAssertLessThanOrEqual(fits.utf8.count - 4, 100)
        guard case .request = parse(fits, limits) else { return XCTFail("\(parse(fits, limits))") }
        // The default: 16 KiB.
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: h:1\r\nX: " + String(repeating: "a", count: 16 * 1024) + "\r\n\r\n"), 431)
    }

    func testBodyLimitIsRefusedFromTheHeaderAlone() {
        XCTAssertEqual(status("POST /api/control HTTP/1.1\r\nHost: h:1\r\nContent-Length: 10485760\r\n\r\n"), 413)
        XCTAssertEqual(status("POST /api/control HTTP/1.1\r\nHost: h:1\r\nContent-Length: 65537\r\n\r\n"), 413)
        XCTAssertEqual(parse("POST /api/control HTTP/1.1\r\nHost: h:1\r\nContent-Length: 65536\r\n\r\n"), .incomplete)
    }

    func testChunkedAndOtherTransferCodingsAreRefused() {
        XCTAssertEqual(status("POST /api/control HTTP/1.1\r\nHost: h:1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), 411)
        XCTAssertEqual(status("POST /api/control HTTP/1.1\r\nHost: h:1\r\nTransfer-Encoding: gzip\r\n\r\n"), 501)
    }

    func testMalformedLines() {
        let cases: [(String, Int)] = [
            ("GET /\r\nHost: h:1\r\n\r\n", 400),                          // two parts
            ("GET  / HTTP/1.1\r\nHost: h:1\r\n\r\n", 400),                // double space
            ("G(T / HTTP/1.1\r\nHost: h:1\r\n\r\n", 400),                 // method not a token
            ("GET http://evil/ HTTP/1.1\r\nHost: h:1\r\n\r\n", 400),      // absolute form
            ("GET / HTTP/2.0\r\nHost: h:1\r\n\r\n", 505),
            ("GET / HTXP/1.1\r\nHost: h:1\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\n\r\n", 400),                              // no Host
            ("GET / HTTP/1.1\r\nHost: a:1\r\nHost: b:1\r\n\r\n", 400),    // two Hosts
            ("GET / HTTP/1.1\r\nHost: h:1\r\nNoColon\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h:1\r\n folded\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h:1\r\nBad Name: x\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h:1\r\nX: a\u{1}b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h:1\r\nX: a\rb\r\n\r\n", 400),
            ("GET / HTTP/1.1\nHost: h:1\n\n", 400),                       // bare LF
            ("POST / HTTP/1.1\r\nHost: h:1\r\nContent-Length: -1\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h:1\r\nContent-Length: 1x\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h:1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
            ("GET /a\u{7F} HTTP/1.1\r\nHost: h:1\r\n\r\n", 400),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(status(text), expected, text.debugDescription)
        }
    }

    func testHTTP10NeedsNoHostAndClosesByDefault() {
        guard case .request(let r, _) = parse("GET / HTTP/1.0\r\n\r\n") else { return XCTFail() }
        XCTAssertFalse(r.keepAlive)
    }

    func testResponseCarriesLengthAndSecurityHeaders() {
        let text = String(decoding: HTTPResponse.html("<p>x</p>").rendered(keepAlive: false), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200 OK\r\n"), text)
        XCTAssertTrue(text.contains("Content-Length: 8\r\n"))
        XCTAssertTrue(text.contains("Connection: close\r\n"))
        XCTAssertTrue(text.contains("X-Content-Type-Options: nosniff\r\n"))
        XCTAssertTrue(text.contains("Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'"))
        XCTAssertFalse(HTTPResponse.contentSecurityPolicy.contains("unsafe-inline"))
        XCTAssertTrue(text.hasSuffix("\r\n\r\n<p>x</p>"))
        var stream = HTTPResponse(status: 200, contentType: "text/event-stream")
        stream.streamed = true
        XCTAssertFalse(String(decoding: stream.rendered(keepAlive: true), as: UTF8.self).contains("Content-Length"))
    }
}
