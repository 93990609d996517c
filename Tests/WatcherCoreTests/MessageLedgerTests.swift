import Testing
import WatcherCore

private func at(_ seconds: Double) -> Instant { Instant(nanoseconds: UInt64(seconds * 1e9)) }

private let request = AgentMessage(id: "req-1", from: "alice", to: "bob", type: .request, run: "r", phase: "1", batch: 2,
                                   body: ["q": "?"])
private let reply = AgentMessage(id: "resp-1", from: "bob", to: "alice", type: .response, replyTo: "req-1")
private let newPath = "/m/mailbox/agents/bob/new/req-1.json"
private let curPath = "/m/mailbox/agents/bob/cur/req-1.json"

/// Records as the log writer would number and stamp them, `ts` seconds after 08:00:00.
private func records(_ events: [(Event, Double)]) -> [EventRecord] {
    events.enumerated().map { i, pair in
        let us = Int((pair.1 * 1e6).rounded())
        let s = us / 1_000_000
        let frac = String(us % 1_000_000)
        let ts = "2026-11-21T08:\(s / 60 < 10 ? "0" : "")\(s / 60):\(s % 60 < 10 ? "0" : "")\(s % 60)."
            + String(repeating: "0", count: 6 - frac.count) + frac + "Z"
        // Through the log's own encoding, as replay reads it.
        let line = EventRecord(seq: UInt64(i + 1), ts: ts, event: pair.0).encoded().dropLast()
        return try! EventRecord.decode(line)
    }
}

/// Seconds since 1970 of 2026-11-21T08:00:00Z plus `s`.
private func wall(_ s: Double) -> Double { EventFormatter.seconds("2026-11-21T08:00:00.000000Z")! + s }

@Suite("MessageLedger")
struct MessageLedgerTests {
    @Test func receiveDeliverAcknowledgeLogsEachStepOnce() {
        var ledger = MessageLedger(ackTimeoutSeconds: 10)
        let received = ledger.receive(request, path: newPath)
        #expect(received == Event(event: "message.received", run: "r", phase: "1", batch: 2, from: "alice", to: "bob", details: [
            .init("id", .string("req-1")), .init("type", .string("request")), .init("path", .string(newPath)),
        ]))
        #expect(ledger.entry("req-1")?.status == .received)
        #expect(ledger.nextDeadline() == nil, "no deadline before delivery")

        let delivered = ledger.deliver(id: "req-1", path: newPath, now: at(100))
        #expect(delivered?.event == "message.delivered")
        #expect(delivered?.string("path") == newPath)
        #expect(ledger.deliver(id: "req-1", path: newPath, now: at(101)) == nil, "delivered once")
        #expect(ledger.nextDeadline() == at(110))
        #expect(ledger.id(atPath: newPath) == "req-1")

        let ack = ledger.acknowledge(id: "req-1", path: curPath)
        #expect(ack == Event(event: "message.acknowledged", run: "r", phase: "1", batch: 2, from: "alice", to: "bob",
                             details: [.init("id", .string("req-1")), .init("path", .string(curPath))]))
        #expect(ledger.acknowledge(id: "req-1", path: curPath) == nil, "acknowledged once")
        #expect(ledger.nextDeadline() == nil, "an acknowledged message has no deadline")
        #expect(ledger.tick(now: at(1000)).isEmpty)
        #expect(ledger.id(atPath: curPath) == "req-1")
        #expect(ledger.id(atPath: newPath) == nil, "the file moved on")
    }

    @Test func unacknowledgedFiresOnceAtTheDeadline() {
        var ledger = MessageLedger(ackTimeoutSeconds: 5)
        _ = ledger.receive(request, path: newPath)
        _ = ledger.deliver(id: "req-1", path: newPath, now: at(10))
        #expect(ledger.tick(now: at(14.999)).isEmpty, "not before the deadline")
        let fired = ledger.tick(now: at(15))
        #expect(fired.map(\.event) == ["message.unacknowledged"])
        #expect(fired.first?.string("id") == "req-1")
        #expect(fired.first?.int("ack_timeout_ms") == 5000)
        #expect(fired.first?.from == "alice" && fired.first?.to == "bob")
        #expect(ledger.tick(now: at(15)).isEmpty)
        #expect(ledger.tick(now: at(1e6)).isEmpty, "once, however long it stays unread")
        #expect(ledger.nextDeadline() == nil)
        // A late acknowledgement is still logged.
        #expect(ledger.acknowledge(id: "req-1", path: curPath)?.event == "message.acknowledged")
    }

    @Test func deadlinesComeInOrderAndOnlyTheDueOnesFire() {
        var ledger = MessageLedger(ackTimeoutSeconds: 10)
        for (i, id) in ["c", "a", "b"].enumerated() {
            _ = ledger.receive(AgentMessage(id: id, from: "x", to: "y", type: .query), path: "/y/new/\(id)")
            _ = ledger.deliver(id: id, path: "/y/new/\(id)", now: at(Double(i)))
        }
        #expect(ledger.nextDeadline() == at(10))
        _ = ledger.acknowledge(id: "c", path: "/y/cur/c")
        #expect(ledger.nextDeadline() == at(11), "an acknowledged head is dropped at once")
        #expect(ledger.tick(now: at(11.5)).compactMap { $0.string("id") } == ["a"])
        #expect(ledger.nextDeadline() == at(12))
        #expect(ledger.tick(now: at(20)).compactMap { $0.string("id") } == ["b"])
        #expect(ledger.pending.map(\.id) == ["a", "b"], "warned but still unacknowledged")
    }

    @Test func consumedByTheWatcher() {
        var ledger = MessageLedger()
        let done = AgentMessage(id: "d1", from: "agent", to: "watcher", type: .batchDone, run: "r", phase: "1", batch: 1)
        _ = ledger.receive(done, path: "/w/new/d1.json")
        let e = ledger.acknowledge(id: "d1", path: "/w/cur/d1.json", consumedBy: "watcher")
        #expect(e?.reason == "consumed_by_watcher")
        #expect(ledger.nextDeadline() == nil)
    }

    @Test func replayKnowsPendingAcknowledgementsAndTheirDeadlines() {
        // The previous life: two messages delivered at 08:00:10 and 08:00:20, one acknowledged,
        // a third received but not delivered, a fourth already warned about.
        var live = MessageLedger(ackTimeoutSeconds: 30)
        var log: [(Event, Double)] = []
        log.append((live.receive(request, path: newPath), 10))
        log.append((live.deliver(id: "req-1", path: newPath, now: at(10))!, 10))
        log.append((live.receive(reply, path: "/m/agents/alice/resp-1.json"), 20))
        log.append((live.deliver(id: "resp-1", path: "/m/agents/alice/new/resp-1.json", now: at(20))!, 20))
        log.append((live.acknowledge(id: "req-1", path: curPath)!, 25))
        let third = AgentMessage(id: "h1", from: "a", to: "c", type: .handoff)
        log.append((live.receive(third, path: "/m/agents/c/h1.json"), 26))
        let fourth = AgentMessage(id: "q1", from: "a", to: "d", type: .query)
        log.append((live.receive(fourth, path: "/m/agents/d/new/q1.json"), 1))
        log.append((live.deliver(id: "q1", path: "/m/agents/d/new/q1.json", now: at(1))!, 1))
        log.append((live.tick(now: at(31)).first!, 31))

        var replayed = MessageLedger(ackTimeoutSeconds: 30)
        for r in records(log) { replayed.apply(r) }
        replayed.apply(EventRecord(seq: 99, ts: "2026-11-21T08:00:40.000000Z", event: Event(event: "batch.transition")))
        #expect(replayed.entries.count == live.entries.count)
        for (id, e) in live.entries {
            let r = replayed.entry(id)
            #expect(r?.status == e.status && r?.path == e.path && r?.warned == e.warned, "\(id)")
            #expect(r?.from == e.from && r?.to == e.to && r?.type == e.type && r?.replyTo == e.replyTo, "\(id)")
            #expect(r?.run == e.run && r?.phase == e.phase && r?.batch == e.batch, "\(id)")
        }
        #expect(replayed.entry("resp-1")?.deliveredAt == wall(20))
        #expect(replayed.pending.map(\.id) == ["q1", "resp-1"])
        #expect(replayed.entry("h1")?.status == .received)
        #expect(replayed.id(atPath: "/m/agents/c/h1.json") == "h1")
        #expect(replayed.nextDeadline() == nil, "no deadline until resume")

        // Restart at 08:00:45 wall time: resp-1 has 5 s left; q1 was already warned about.
        replayed.resume(now: at(500), wallClockSeconds: wall(45))
        #expect(replayed.nextDeadline() == at(505))
        #expect(replayed.tick(now: at(504.9)).isEmpty)
        #expect(replayed.tick(now: at(505)).compactMap { $0.string("id") } == ["resp-1"])
        #expect(replayed.tick(now: at(9999)).isEmpty)
        // The received one can still be delivered, and its deadline counts from then.
        #expect(replayed.deliver(id: "h1", path: "/m/agents/c/new/h1.json", now: at(600)) != nil)
        #expect(replayed.nextDeadline() == at(630))
    }

    @Test func aDeadlinePassedWhileTheWatcherWasDownFiresAtTheFirstTick() {
        var ledger = MessageLedger(ackTimeoutSeconds: 30)
        var live = MessageLedger(ackTimeoutSeconds: 30)
        let e1 = live.receive(request, path: newPath)
        let e2 = live.deliver(id: "req-1", path: newPath, now: at(0))!
        for r in records([(e1, 0), (e2, 0)]) { ledger.apply(r) }
        ledger.resume(now: at(7), wallClockSeconds: wall(3600))
        #expect(ledger.nextDeadline() == at(7))
        #expect(ledger.tick(now: at(7)).count == 1)
    }

    @Test func settleRechecks() {
        var ledger = MessageLedger(ackTimeoutSeconds: 100)
        ledger.recheck("/a/x.json", at: at(1))
        ledger.recheck("/a/y.json", at: at(2))
        #expect(ledger.nextDeadline() == at(1))
        ledger.recheck("/a/x.json", at: at(3)) // written again: the window starts again
        #expect(ledger.nextDeadline() == at(2))
        #expect(ledger.dueRechecks(now: at(2.5)) == ["/a/y.json"])
        #expect(ledger.isRechecking("/a/x.json"))
        ledger.forgetRecheck("/a/x.json")
        #expect(ledger.nextDeadline() == nil)
    }
}
