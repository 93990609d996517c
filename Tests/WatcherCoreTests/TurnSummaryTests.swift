import Testing
@testable import WatcherCore

@Suite struct TurnSummaryTests {
    @Test func threadsListTheirTurnsStuckFirstAndRespondersTheirCounts() {
        var book = TurnBook(responders: [ResponderSpec(name: "rev", argv: ["x"], maxAttempts: 1, maxTurnsPerThread: 1)])
        let t0 = Instant(nanoseconds: 0)
        var events: [Event] = []
        func run(_ i: TurnInput) {
            events += book.handle(i, now: t0).compactMap { if case .log(let e) = $0 { return e }; return nil }
        }
        run(.delivered(AgentMessage(id: "a", from: "alice", to: "rev", type: .request), thread: "a"))
        run(.spawned(message: "a", attempt: 1, pid: 9))
        run(.exited(message: "a", attempt: 1, status: "exit 0",
                    answer: .reply(replyID: "a.r1", sessionID: nil, usage: [.init("input_tokens", .int(5)), .init("output_tokens", .int(2))])))
        run(.delivered(AgentMessage(id: "b", from: "bob", to: "rev", type: .query), thread: "b"))
        run(.spawned(message: "b", attempt: 1, pid: 10))
        run(.exited(message: "b", attempt: 1, status: "exit 1", answer: .failure(reason: "crashed", message: "boom", transient: false, usage: [])))
        run(.delivered(AgentMessage(id: "a2", from: "alice", to: "rev", type: .request, replyTo: "a.r1"), thread: "a"))
        let records = events.enumerated().map { i, e in
            EventRecord(seq: UInt64(i + 1), ts: "2026-12-03T09:00:0\(min(i, 9)).000000Z", event: e)
        }
        let s = TurnSummary.build(records)
        #expect(s.threads.map(\.thread) == ["a", "b"] && s.threads[0].stuck)
        #expect(s.threads[0].turns.map(\.state) == ["replied", "stuck"])
        let first = s.threads[0].turns[0]
        #expect(first.inputTokens == 5 && first.outputTokens == 2 && first.replyID == "a.r1" && first.seconds == 2)
        #expect(TurnSummary.text(first) == "turn 1  rev  attempt 1  replied  2.0s  5 in / 2 out")
        #expect(TurnSummary.text(s.threads[1].turns[0]).hasSuffix("failed (crashed)  2.0s  error: boom"))
        #expect(s.responders == [TurnSummary.Responder(name: "rev", state: "idle", running: 0, turns: 2, replied: 1, failed: 1,
                                                        consecutiveErrors: 1)])
    }
}
