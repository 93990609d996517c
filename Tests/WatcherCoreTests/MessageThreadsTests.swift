import Testing
import WatcherCore

private func message(_ id: String, _ from: String, _ to: String, replyTo: String? = nil, order: Int) -> MessageThreads.Message {
    MessageThreads.Message(id: id, from: from, to: to, type: replyTo == nil ? "request" : "response", replyTo: replyTo,
                           status: "delivered", order: order)
}

@Suite("MessageThreads")
struct MessageThreadsTests {
    @Test func groupsByReplyChainsInOrder() {
        let threads = MessageThreads.build([
            message("a1", "alice", "bob", order: 0),
            message("c1", "carol", "bob", order: 1),
            message("a2", "bob", "alice", replyTo: "a1", order: 2),
            message("a3", "alice", "bob", replyTo: "a2", order: 3),
            message("a2b", "dave", "alice", replyTo: "a1", order: 4),
            message("orphan", "bob", "eve", replyTo: "gone", order: 5),
        ])
        #expect(threads.map(\.root) == ["a1", "c1", "orphan"])
        #expect(threads[0].entries.map { "\($0.depth) \($0.message.id)" } == ["0 a1", "1 a2", "2 a3", "1 a2b"])
        #expect(MessageThreads.thread(containing: "a3", in: threads)?.root == "a1")
        #expect(MessageThreads.thread(containing: "nope", in: threads) == nil)
    }

    @Test func aCycleOfRepliesStillShowsEveryMessageOnce() {
        let threads = MessageThreads.build([
            message("x", "a", "b", replyTo: "z", order: 0),
            message("y", "b", "a", replyTo: "x", order: 1),
            message("z", "a", "b", replyTo: "y", order: 2),
        ])
        #expect(threads.map(\.root) == ["x"])
        #expect(threads[0].ids == ["x", "y", "z"])
    }

    @Test func collectMergesLogStatesWithFileBodies() {
        var ledger = MessageLedger(ackTimeoutSeconds: 1)
        let req = AgentMessage(id: "q", from: "alice", to: "bob", type: .query, body: ["k": 1])
        let ans = AgentMessage(id: "r", from: "bob", to: "alice", type: .response, body: "42", replyTo: "q")
        let queued = AgentMessage(id: "later", from: "alice", to: "bob", type: .feedback, replyTo: "r")
        let events = [
            ledger.receive(req, path: "/b/new/q.json"),
            ledger.deliver(id: "q", path: "/b/new/q.json", now: Instant(nanoseconds: 0))!,
            ledger.receive(ans, path: "/a/r.json"),
            ledger.deliver(id: "r", path: "/a/new/r.json", now: Instant(nanoseconds: 0))!,
            ledger.acknowledge(id: "q", path: "/b/cur/q.json")!,
        ] + ledger.tick(now: Instant(nanoseconds: 5_000_000_000))
        let records = events.enumerated().map { EventRecord(seq: UInt64($0.offset + 1), ts: "2026-11-21T08:00:0\($0.offset).000000Z", event: $0.element) }
        let all = MessageThreads.collect(records: records, files: [
            ("/b/cur/q.json", req), ("/a/new/r.json", ans), ("/b/new/later.json", queued),
        ])
        #expect(all.map { "\($0.id) \($0.status)" } == ["q acknowledged", "r unacknowledged", "later queued"])
        #expect(all[0].body == ["k": 1])
        #expect(all[0].received == "2026-11-21T08:00:00.000000Z")
        #expect(all[1].replyTo == "q")
        let threads = MessageThreads.build(all)
        #expect(threads.count == 1)
        #expect(threads[0].entries.map(\.depth) == [0, 1, 2])
    }
}
