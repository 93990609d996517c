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
