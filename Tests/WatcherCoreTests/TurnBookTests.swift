import Testing
@testable import WatcherCore

private let t0 = Instant(nanoseconds: 1_000_000_000)
private func at(_ s: Double) -> Instant { t0.adding(seconds: s) }

private func book(_ r: ResponderSpec = ResponderSpec(name: "rev", argv: ["claude"], timeoutSeconds: 30)) -> TurnBook {
    TurnBook(responders: [r])
}

private func ask(_ id: String, thread: String? = nil, from: String = "alice", to: String = "rev",
                 type: AgentMessage.Kind = .request) -> TurnInput {
    .delivered(AgentMessage(id: id, from: from, to: to, type: type, run: "r", phase: "3", batch: 2), thread: thread ?? id)
}

private func logs(_ effects: [TurnEffect]) -> [Event] {
    effects.compactMap { if case .log(let e) = $0 { return e }; return nil }
}

/// `from -> to (reason)` of every turn.transition in the effects.
private func moves(_ effects: [TurnEffect]) -> [String] {
    logs(effects).filter { $0.event == EventName.turnTransition }
        .map { "\($0.from ?? "-")->\($0.to ?? "?")" + ($0.reason.map { " \($0)" } ?? "") }
}

private func reply(_ id: String, session: String? = nil) -> TurnAnswer {
    .reply(replyID: id, sessionID: session, usage: [.init("output_tokens", .int(7))])
}

private let crash = TurnAnswer.failure(reason: "crashed", message: "exit 1", transient: false, usage: [])

@Suite struct TurnBookTests {
    @Test func aQuestionIsQueuedSpawnedRunAndAnswered() throws {
        var b = book()
        let e1 = b.handle(ask("m1"), now: t0)
        #expect(moves(e1) == ["-->queued request", "queued->spawning"])
        guard case .spawn(let t, let session)? = e1.last else { Issue.record("no spawn"); return }
        #expect(t.attempt == 1 && t.turn == 1 && t.thread == "m1" && t.sender == "alice" && session == nil)
        let q = logs(e1)[0]
        #expect(q.string("thread") == "m1" && q.string("message") == "m1" && q.string("responder") == "rev" && q.int("turn") == 1)
        #expect(q.run == "r" && q.phase == "3" && q.batch == 2 && q.attempt == nil && logs(e1)[1].attempt == 1)
        let e2 = b.handle(.spawned(message: "m1", attempt: 1, pid: 42), now: t0)
        #expect(moves(e2) == ["spawning->running"] && logs(e2)[0].int("pid") == 42)
        #expect(b.nextDeadline() == at(30))
        let e3 = b.handle(.exited(message: "m1", attempt: 1, status: "exit 0", answer: reply("m1.r1", session: "s-1")), now: at(1))
        #expect(moves(e3) == ["running->replied"])
        #expect(logs(e3)[0].string("reply_id") == "m1.r1" && logs(e3)[0].string("session_id") == "s-1" && logs(e3)[0].int("output_tokens") == 7)
        #expect(Array(e3.dropFirst()) == [.postStaged(replyID: "m1.r1", to: "alice"), .acknowledge(message: "m1", reason: "answered")])
        #expect(b.session(thread: "m1", responder: "rev") == "s-1" && b.nextDeadline() == nil)
    }

    @Test func theNextTurnOfAThreadResumesItsSession() throws {
        var b = book()
        _ = b.handle(ask("m1"), now: t0)
        _ = b.handle(.spawned(message: "m1", attempt: 1, pid: 42), now: t0)
        _ = b.handle(.exited(message: "m1", attempt: 1, status: "exit 0", answer: reply("m1.r1", session: "s-1")), now: t0)
        let e = b.handle(ask("m2", thread: "m1"), now: t0)
        guard case .spawn(let t, let session)? = e.last else { Issue.record("no spawn"); return }
        #expect(t.turn == 2 && session == "s-1")
        // Another thread has no session yet.
        guard case .spawn(_, let other)? = b.handle(ask("x1"), now: t0).last else { return }
        #expect(other == nil)
    }

    @Test func messagesThatDoNotWakeItAreLeftAlone() {
        var b = book()
        #expect(b.handle(ask("m1", type: .response), now: t0).isEmpty)
        #expect(b.handle(ask("m2", type: .context), now: t0).isEmpty)
        #expect(b.handle(ask("m3", to: "nobody"), now: t0).isEmpty)
        // A message delivered twice (a restart) is one turn.
        _ = b.handle(ask("m4"), now: t0)
        #expect(b.handle(ask("m4"), now: t0).isEmpty)
    }

    @Test func concurrencyHoldsTurnsQueued() {
        var b = book()
        #expect(moves(b.handle(ask("m1"), now: t0)) == ["-->queued request", "queued->spawning"])
        #expect(moves(b.handle(ask("m2"), now: t0)) == ["-->queued request"])
        _ = b.handle(.spawned(message: "m1", attempt: 1, pid: 42), now: t0)
        let e = b.handle(.exited(message: "m1", attempt: 1, status: "exit 0", answer: reply("m1.r1")), now: t0)
        #expect(moves(e) == ["running->replied", "queued->spawning"])
    }

    @Test func aCrashIsRetriedThenTheTurnFailsWithAnErrorReply() throws {
        var b = book(ResponderSpec(name: "rev", argv: ["x"], maxAttempts: 2))
        _ = b.handle(ask("m1"), now: t0)
        _ = b.handle(.spawned(message: "m1", attempt: 1, pid: 42), now: t0)
        let e1 = b.handle(.exited(message: "m1", attempt: 1, status: "exit 1", answer: crash), now: t0)
        #expect(moves(e1) == ["running->retry_wait crashed"])
        #expect(logs(e1)[0].int("retry_in_ms") == 1000 && logs(e1)[0].bool("attempt_used") == true)
        #expect(b.nextDeadline() == at(1))
        #expect(b.handle(.tick, now: at(0.5)).isEmpty)
        let e2 = b.handle(.tick, now: at(1))
        #expect(moves(e2) == ["retry_wait->spawning"] && logs(e2)[0].attempt == 2)
        let e3 = b.handle(.spawnFailed(message: "m1", attempt: 2, error: "no such program"), now: at(1))
        #expect(moves(e3) == ["spawning->failed spawn_failed"])
        #expect(logs(e3)[0].string("reply_id") == "m1.r1")
        guard case .post(let m)? = e3.dropLast().last else { Issue.record("no error reply"); return }
        #expect(m.type == .error && m.id == "m1.r1" && m.to == "alice" && m.from == "rev" && m.replyTo == "m1")
        #expect(m.body?["error"]?.stringValue == "spawn_failed" && m.body?["message"]?.stringValue == "no such program")
        #expect(e3.last == .acknowledge(message: "m1", reason: "failed"))
    }

    @Test func aTransientFailureBacksOffWithoutUsingAnAttempt() {
        var b = book(ResponderSpec(name: "rev", argv: ["x"], maxAttempts: 1))
        _ = b.handle(ask("m1"), now: t0)
        _ = b.handle(.spawned(message: "m1", attempt: 1, pid: 42), now: t0)
        let e = b.handle(.exited(message: "m1", attempt: 1, status: "exit 1",
                                 answer: .failure(reason: "agent_error", message: "429", transient: true, usage: [])), now: t0)
        #expect(moves(e) == ["running->retry_wait agent_error"] && logs(e)[0].bool("attempt_used") == false)
        let again = b.handle(.tick, now: at(5))
        #expect(moves(again) == ["retry_wait->spawning"] && logs(again)[0].attempt == 1)
    }

    @Test func aTimeoutStopsTheGroupThenKillsItAndCountsAsAFailedAttempt() {
        var b = book()
        _ = b.handle(ask("m1"), now: t0)
        _ = b.handle(.spawned(message: "m1", attempt: 1, pid: 42), now: t0)
        #expect(b.handle(.tick, now: at(29)).isEmpty)
        #expect(b.handle(.tick, now: at(30)) == [.signal(message: "m1", pid: 42, .terminate)])
        #expect(b.nextDeadline() == at(35))
        #expect(b.handle(.tick, now: at(35)) == [.signal(message: "m1", pid: 42, .kill)])
        // What it printed after the deadline is not taken as its answer.
        let e = b.handle(.exited(message: "m1", attempt: 1, status: "killed by SIGKILL", answer: reply("m1.r1")), now: at(35))
        #expect(moves(e) == ["running->retry_wait timeout"])
    }

    @Test func theTurnLimitMakesTheThreadStuck() throws {
        var b = book(ResponderSpec(name: "rev", argv: ["x"], maxTurnsPerThread: 2))
        for (i, id) in ["m1", "m2"].enumerated() {
            _ = b.handle(ask(id, thread: "m1"), now: t0)
            _ = b.handle(.spawned(message: id, attempt: 1, pid: 40 + Int32(i)), now: t0)
            _ = b.handle(.exited(message: id, attempt: 1, status: "exit 0", answer: reply(id + ".r\(i + 1)")), now: t0)
        }
        let e = b.handle(ask("m3", thread: "m1"), now: t0)
        #expect(moves(e) == ["-->stuck turn_limit"])
        let stuck = try #require(logs(e).first { $0.event == EventName.threadStuck })
        #expect(stuck.string("thread") == "m1" && stuck.int("turns") == 2 && stuck.int("max_turns") == 2)
        #expect(e.contains(.stuckReport(thread: "m1", responder: "rev", waiting: "alice", lastError: nil)))
        guard case .post(let notice)? = e.dropLast().last else { Issue.record("no notice"); return }
        #expect(notice.type == .feedback && notice.to == "alice" && notice.replyTo == "m3" && notice.id == "m3.stuck")
        #expect(e.last == .acknowledge(message: "m3", reason: "thread_stuck"))
        #expect(b.stuckThreads == ["m1"])
        // Nothing more in that thread: the notice itself (a feedback, in the thread) wakes no turn.
        #expect(b.handle(ask("m3.stuck", thread: "m1", type: .feedback), now: t0) == [.acknowledge(message: "m3.stuck", reason: "thread_stuck")])
    }

    @Test func consecutiveFailedTurnsPauseTheResponderUntilResumed() throws {
        var b = book(ResponderSpec(name: "rev", argv: ["x"], concurrency: 3, maxAttempts: 1, maxConsecutiveErrors: 2))
        func fail(_ id: String) -> [TurnEffect] {
            _ = b.handle(ask(id), now: t0)
            _ = b.handle(.spawned(message: id, attempt: 1, pid: 7), now: t0)
            return b.handle(.exited(message: id, attempt: 1, status: "exit 1", answer: crash), now: t0)
        }
        #expect(!logs(fail("m1")).contains { $0.event == EventName.responderPaused })
        let paused = try #require(logs(fail("m2")).first { $0.event == EventName.responderPaused })
        #expect(paused.string("responder") == "rev" && paused.reason == "consecutive_errors" && paused.int("errors") == 2)
        #expect(moves(b.handle(ask("m3"), now: t0)) == ["-->queued request"]) // waits
        let e = b.handle(.resume(responder: "rev"), now: t0)
        #expect(logs(e).first?.event == EventName.responderResumed && moves(e) == ["queued->spawning"])
        #expect(b.consecutiveErrors["rev"] == 0)
    }

    @Test func aReplyResetsTheBreakerCount() {
        var b = book(ResponderSpec(name: "rev", argv: ["x"], maxAttempts: 1))
        _ = b.handle(ask("m1"), now: t0)
        _ = b.handle(.spawned(message: "m1", attempt: 1, pid: 7), now: t0)
        _ = b.handle(.exited(message: "m1", attempt: 1, status: "exit 1", answer: crash), now: t0)
        #expect(b.consecutiveErrors["rev"] == 1)
        _ = b.handle(ask("m2"), now: t0)
        _ = b.handle(.spawned(message: "m2", attempt: 1, pid: 7), now: t0)
        _ = b.handle(.exited(message: "m2", attempt: 1, status: "exit 0", answer: reply("m2.r1")), now: t0)
        #expect(b.consecutiveErrors["rev"] == 0)
    }

    @Test func cancellingAThreadStopsItsRunningTurnAndEndsIt() throws {
        var b = book(ResponderSpec(name: "rev", argv: ["x"], concurrency: 1))
        _ = b.handle(ask("m1"), now: t0)
        _ = b.handle(.spawned(message: "m1", attempt: 1, pid: 42), now: t0)
        _ = b.handle(ask("m2", thread: "m1"), now: t0) // queued behind it
        let e = b.handle(.cancelThread("m1"), now: t0)
        #expect(logs(e).first?.event == EventName.threadCancelled)
        #expect(moves(e) == ["queued->cancelled cancelled"])
        #expect(e.contains(.signal(message: "m1", pid: 42, .terminate)))
        let end = b.handle(.exited(message: "m1", attempt: 1, status: "killed by SIGTERM", answer: reply("m1.r1")), now: t0)
        #expect(moves(end) == ["running->cancelled cancelled"])
        guard case .post(let m)? = end.dropLast().last else { Issue.record("no error reply"); return }
        #expect(m.type == .error && m.body?["error"]?.stringValue == "cancelled")
        #expect(b.handle(ask("m3", thread: "m1"), now: t0) == [.acknowledge(message: "m3", reason: "thread_cancelled")])
    }

    @Test func inputsThatDoNotFitAreIgnored() {
        var b = book()
        _ = b.handle(ask("m1"), now: t0)
        #expect(b.handle(.spawned(message: "m1", attempt: 2, pid: 1), now: t0).isEmpty)
        #expect(b.handle(.exited(message: "m1", attempt: 1, status: "exit 0", answer: reply("x")), now: t0).isEmpty)
        #expect(b.handle(.spawned(message: "zz", attempt: 1, pid: 1), now: t0).isEmpty)
        #expect(b.handle(.resume(responder: "rev"), now: t0).isEmpty)
    }

    @Test func replayFoldsTheSameStateAndRecoveryRetriesWithoutUsingAnAttempt() throws {
        var live = book(ResponderSpec(name: "rev", argv: ["x"], concurrency: 2, maxTurnsPerThread: 1))
        var records: [Event] = []
        func run(_ i: TurnInput) { records += logs(live.handle(i, now: t0)) }
        run(ask("m1"))
        run(.spawned(message: "m1", attempt: 1, pid: 42))
        run(.exited(message: "m1", attempt: 1, status: "exit 0", answer: reply("m1.r1", session: "s")))
        run(ask("m2", thread: "m1")) // stuck
        run(ask("x1"))
        run(.spawned(message: "x1", attempt: 1, pid: 43)) // running when the daemon dies
        var replayed = book(ResponderSpec(name: "rev", argv: ["x"], concurrency: 2, maxTurnsPerThread: 1))
        for e in records { replayed.apply(e) }
        for id in ["m1", "m2", "x1"] {
            #expect(replayed.turn(id)?.state == live.turn(id)?.state)
            #expect(replayed.turn(id)?.attempt == live.turn(id)?.attempt)
        }
        #expect(replayed.stuckThreads == ["m1"] && replayed.threadTurns == live.threadTurns)
        #expect(replayed.session(thread: "m1", responder: "rev") == "s")
        let effects = replayed.recover(now: t0)
        #expect(moves(effects) == ["running->retry_wait watcher_restart", "retry_wait->spawning"])
        #expect(logs(effects)[1].attempt == 1) // the restart used no attempt
        #expect(effects.contains(.postStaged(replyID: "m1.r1", to: "alice")))
        #expect(effects.contains(.acknowledge(message: "m1", reason: "answered")))
        #expect(effects.contains(.acknowledge(message: "m2", reason: "thread_stuck")))
    }

    @Test func replyIdsAreDerivedAndPlainNames() {
        #expect(TurnReply.id(message: "m1", turn: 3) == "m1.r3")
        let long = String(repeating: "a", count: 64)
        let id = TurnReply.id(message: long, turn: 12)
        #expect(id.utf8.count == 64 && PlainName.check(id) == nil && id.hasSuffix(".r12"))
        #expect(id == TurnReply.id(message: long, turn: 12) && id != TurnReply.id(message: long + "b", turn: 12))
        #expect(PlainName.check(TurnReply.stuckID(message: long)) == nil)
    }
}
