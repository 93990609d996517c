import WatcherCore
import XCTest

final class DashboardCoreTests: XCTestCase {
    func route(_ m: String, _ p: String) -> DashboardRoute? { try? DashboardRoute.resolve(method: m, path: p).get() }
    func failure(_ m: String, _ p: String) -> Int? {
        if case .failure(let f) = DashboardRoute.resolve(method: m, path: p) { return f.status }
        return nil
    }

    func testRoutes() {
        XCTAssertEqual(route("GET", "/"), .overview)
        XCTAssertEqual(route("GET", "/run/spa_for_eng"), .run("spa_for_eng"))
        XCTAssertEqual(route("GET", "/timeline/r1"), .timeline("r1"))
        XCTAssertEqual(route("GET", "/batch/r1/3/7"), .batch(BatchID(run: "r1", phase: "3", index: 7)))
        XCTAssertEqual(route("GET", "/api/batch/r1/3/7"), .apiBatch(BatchID(run: "r1", phase: "3", index: 7)))
        XCTAssertEqual(route("GET", "/assets/app.js"), .asset("app.js"))
        XCTAssertEqual(route("GET", "/favicon.ico"), .asset("icon.svg"))
        XCTAssertEqual(route("GET", "/api/stream"), .apiStream)
        XCTAssertEqual(route("POST", "/api/control"), .apiControl)
        XCTAssertEqual(route("GET", "/events"), .events)
        XCTAssertEqual(route("GET", "/messages"), .messages)
        XCTAssertEqual(route("HEAD", "/api/status"), .apiStatus)
        XCTAssertEqual(route("GET", "/api/log/r1/3/7/2"), .apiLog(BatchID(run: "r1", phase: "3", index: 7), attempt: 2))
    }

    func testAgentLogAddressesAreNamesAndNumbers() {
        XCTAssertEqual(failure("GET", "/api/log/r1/3/7"), 404, "the attempt is part of the address")
        XCTAssertEqual(failure("GET", "/api/log/r1/3/7/0"), 404)
        XCTAssertEqual(failure("GET", "/api/log/r1/3/7/02"), 404)
        XCTAssertEqual(failure("GET", "/api/log/../3/7/1"), 404)
        XCTAssertEqual(failure("GET", "/api/log/r1/..%2F/7/1"), 404)
        XCTAssertEqual(failure("POST", "/api/log/r1/3/7/1"), 405)
    }

    func sse(_ s: String, id: Int = 9) -> String { String(decoding: SSEText.frame(Array(s.utf8)[...], id: id), as: UTF8.self) }

    func testAgentLogTextAsServerSentEvents() {
        XCTAssertEqual(sse("one\n"), "id: 9\ndata: one\ndata: \n\n", "a trailing line break survives the EventSource's last-LF rule")
        XCTAssertEqual(sse("a\r\nb\rc"), "id: 9\ndata: a\ndata: b\ndata: c\n\n", "CRLF and CR are line breaks, no line escapes its data:")
        XCTAssertEqual(sse("<script>"), "id: 9\ndata: <script>\n\n", "text stays text: the page appends it as a text node")
        let e = Array("é".utf8) // C3 A9
        XCTAssertEqual(SSEText.completeUTF8Prefix(Array("ab".utf8)[...]), 2)
        XCTAssertEqual(SSEText.completeUTF8Prefix(([0x61] + e.prefix(1))[...]), 1, "half a scalar waits")
        XCTAssertEqual(SSEText.completeUTF8Prefix(([0x61] + e)[...]), 3)
        let euro = Array("€".utf8) // E2 82 AC
        XCTAssertEqual(SSEText.completeUTF8Prefix(euro.prefix(2)), 0)
        XCTAssertEqual(SSEText.completeUTF8Prefix([0x80, 0x80][...]), 2, "stray continuation bytes are sent as they are")
        XCTAssertNil(SSEText.next(euro.prefix(2), offset: 10))
        let next = SSEText.next((Array("x".utf8) + euro.prefix(1))[...], offset: 10)
        XCTAssertEqual(next?.used, 1)
        XCTAssertEqual(next.map { String(decoding: $0.frame, as: UTF8.self) }, "id: 11\ndata: x\n\n", "the id is the file offset after the text")
    }

    func testHostileAndUnknownAddresses() {
        XCTAssertEqual(failure("GET", "/run/..%2F..%2Fetc"), 404)
        XCTAssertEqual(failure("GET", "/run/.hidden"), 404)
        XCTAssertEqual(failure("GET", "/run/a/b"), 404)
        XCTAssertEqual(failure("GET", "/batch/r/../1"), 404)
        XCTAssertEqual(failure("GET", "/batch/r/1/0"), 404)
        XCTAssertEqual(failure("GET", "/batch/r/1/07"), 404)
        XCTAssertEqual(failure("GET", "/batch/r/1/x"), 404)
        XCTAssertEqual(failure("GET", "/assets/../../etc/passwd"), 404)
        XCTAssertEqual(failure("GET", "/assets/other.js"), 404)
        XCTAssertEqual(failure("GET", "/nothing"), 404)
        XCTAssertEqual(failure("GET", "/run/" + String(repeating: "a", count: 65)), 404)
    }

    func testMethods() {
        XCTAssertEqual(failure("GET", "/api/control"), 405, "GETs never change state")
        XCTAssertEqual(failure("POST", "/run/x"), 405)
        XCTAssertEqual(failure("DELETE", "/"), 405)
    }

    func testEscapingPerContext() {
        XCTAssertEqual(HTMLEscape.text("<script>alert(1)</script> & x"), "&lt;script&gt;alert(1)&lt;/script&gt; &amp; x")
        XCTAssertEqual(HTMLEscape.attribute("\"><img src=x onerror=alert(1)>'"),
                       "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;")
        let json = HTMLEscape.jsonInScript(.object([("m", .string("</script><!-- & \u{2028}"))]))
        XCTAssertEqual(json, #"{"m":"\u003c/script\u003e\u003c!-- \u0026 \u2028"}"#)
        XCTAssertFalse(json.contains("<"))
        XCTAssertEqual(try JSONParser.parse(json)["m"]?.stringValue, "</script><!-- & \u{2028}", "still the same JSON")
    }

    func testTokenCompare() {
        let t = DashboardToken.hex([0x00, 0x1f, 0xa0, 0xff])
        XCTAssertEqual(t, "001fa0ff")
        XCTAssertTrue(DashboardToken.matches("001fa0ff", t))
        XCTAssertFalse(DashboardToken.matches("001fa0fe", t))
        XCTAssertFalse(DashboardToken.matches("001fa0f", t))
        XCTAssertFalse(DashboardToken.matches("001fa0ff0", t))
        XCTAssertFalse(DashboardToken.matches("", t))
        XCTAssertFalse(DashboardToken.matches("", ""), "an empty expected token matches nothing")
    }

    func request(_ headers: [(String, String)], method: String = "GET", target: String = "/") -> HTTPRequest {
        HTTPRequest(method: method, target: target, headers: headers.map { .init($0.0, $0.1) })
    }

    func testGuard() {
        let g = RequestGuard(listenHost: "127.0.0.1", port: 8765, token: "abc123")
        let cookie = ("cookie", "x=1; aw_token=abc123")
        XCTAssertEqual(g.check(request([("host", "127.0.0.1:8765"), cookie])), .allowed)
        XCTAssertEqual(g.check(request([("host", "localhost:8765"), ("authorization", "Bearer abc123")])), .allowed)
        guard case .refused(421, _) = g.check(request([("host", "evil.example:8765"), cookie])) else { return XCTFail() }
        guard case .refused(421, _) = g.check(request([("host", "127.0.0.1:9999"), cookie])) else { return XCTFail() }
        guard case .refused(403, _) = g.check(request([("host", "127.0.0.1:8765"), ("origin", "http://evil.example"), cookie])) else {
            return XCTFail()
        }
        XCTAssertEqual(g.check(request([("host", "127.0.0.1:8765"), ("origin", "http://127.0.0.1:8765"), cookie])), .allowed)
        guard case .refused(403, _) = g.check(request([("host", "127.0.0.1:8765")], method: "POST")) else { return XCTFail() }
        guard case .refused(403, _) = g.check(request([("host", "127.0.0.1:8765"), ("cookie", "aw_token=abc124")])) else { return XCTFail() }
        XCTAssertEqual(g.check(request([("host", "127.0.0.1:8765")], target: "/run/x?token=abc123&a=1")), .setCookie(location: "/run/x?a=1"))
        guard case .refused(403, _) = g.check(request([("host", "127.0.0.1:8765")], method: "POST", target: "/api/control?token=abc123")) else {
            return XCTFail("a token in a POST's query is not accepted")
        }
    }
}
