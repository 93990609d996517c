import WatcherCore
import XCTest

final class MessagesViewTests: XCTestCase {
    typealias M = MessageThreads.Message

    // Thread a: a → b query (acknowledged), b → a reply (acknowledged): done.
    // Thread c: c → b query about run r1 (delivered): waiting.
    // Thread d: a → c note with a body (consumed): done.
    let messages: [M] = [
        M(id: "a1", from: "a", to: "b", type: "query", status: "acknowledged", order: 0),
        M(id: "a2", from: "b", to: "a", type: "answer", replyTo: "a1", status: "acknowledged", order: 1),
        M(id: "c1", from: "c", to: "b", type: "query", run: "r1", phase: "3", batch: 7, status: "delivered", order: 2),
        M(id: "d1", from: "a", to: "c", type: "note", status: "consumed", body: .object([("text", .string("The <b>Basket</b> is EMPTY"))]), order: 3),
    ]

    func view(_ f: MessagesView.Filter = .init()) -> MessagesView { MessagesView.build(messages, filter: f) }

    func testWaitingThreadsComeFirstAndTotalsCountEverything() {
        let v = view()
        XCTAssertEqual(v.threads.map(\.root), ["c1", "a1", "d1"], "the waiting thread first, the others in order")
        XCTAssertEqual(v.bySender.map(\.name), ["a", "b", "c"])
        XCTAssertEqual(v.bySender.map(\.count), [2, 1, 1])
        XCTAssertEqual(v.byType.map(\.name), ["answer", "note", "query"])
        XCTAssertEqual(v.byType.map(\.count), [1, 1, 2])
        XCTAssertEqual(v.matching.count, 4)
        XCTAssertEqual(v.agents, ["a", "b", "c"])
        XCTAssertEqual(v.states, ["acknowledged", "consumed", "delivered", "waiting"])
        XCTAssertEqual(v.runs, ["r1"])
    }

    func testStuckThreadsComeBeforeWaitingOnes() {
        let v = MessagesView.build(messages, filter: .init(), stuck: ["d1"])
        XCTAssertEqual(v.threads.map(\.root), ["d1", "c1", "a1"], "stuck, then waiting, then the rest in order")
    }

    func testEachFilter() {
        XCTAssertEqual(view(.init(agent: "c")).threads.map(\.root), ["c1", "d1"], "sender or recipient")
        XCTAssertEqual(view(.init(type: "answer")).threads.map(\.root), ["a1"], "a thread is shown when one of its messages matches")
        XCTAssertEqual(view(.init(type: "answer")).matching, ["a2"], "the others are its context")
        XCTAssertEqual(view(.init(state: "waiting")).threads.map(\.root), ["c1"])
        XCTAssertEqual(view(.init(state: "consumed")).threads.map(\.root), ["d1"])
        XCTAssertEqual(view(.init(run: "r1")).threads.map(\.root), ["c1"])
        XCTAssertEqual(view(.init(text: "basket</B> is empty")).threads.map(\.root), ["d1"], "the body's text, ignoring case")
        XCTAssertEqual(view(.init(agent: "a", type: "query")).matching, ["a1"], "filters combine")
        let none = view(.init(agent: "nobody"))
        XCTAssertTrue(none.threads.isEmpty)
        XCTAssertEqual(none.total, 4)
        XCTAssertEqual(none.agents, ["a", "b", "c"], "the choices stay")
        XCTAssertEqual(view(.init(type: "query")).bySender.map(\.name), ["a", "c"], "totals of what matches")
    }

    func testFilterFromTheQuery() {
        let f = MessagesView.Filter(query: [("agent", "b"), ("type", ""), ("q", "x y"), ("other", "1")])
        XCTAssertEqual(f, MessagesView.Filter(agent: "b", text: "x y"), "an empty value filters nothing")
        XCTAssertTrue(MessagesView.Filter(query: []).isEmpty)
    }

    func testBodyText() {
        XCTAssertEqual(MessagesView.bodyText(.string("plain")), "plain")
        XCTAssertEqual(MessagesView.bodyText(.object([("n", .number(1))])), #"{"n":1}"#)
    }
}
