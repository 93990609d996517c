extension TurnBook {
    /// Turns one fact into effects, then starts what the free slots allow. An input that does
    /// not fit its turn's state is ignored (no effects), never a trap.
    public mutating func handle(_ input: TurnInput, now: Instant) -> [TurnEffect] {
        var effects: [TurnEffect] = []
        switch input {
        case .delivered(let request, let thread):
            delivered(request, thread: thread, into: &effects)
        case .spawned(let message, let attempt, let pid):
            guard let t = turns[message], t.state == .spawning, t.attempt == attempt else { break }
            transition(message, to: .running, details: [.init("pid", .int(Int(pid)))], into: &effects)
            let life = ChildLifetime(deadline: now.adding(seconds: responders[t.responder]?.timeoutSeconds ?? 600),
                                     grace: grace(t.responder))
            turns[message]?.life = life
            if t.cancelRequested { stopAgent(message, reason: "cancelled", now: now, into: &effects) } // cancelled while spawning
        case .spawnFailed(let message, let attempt, let error):
            guard let t = turns[message], t.state == .spawning, t.attempt == attempt else { break }
            if t.stopping == .cancelled { cancel(message, into: &effects); break }
            attemptFailed(message, reason: "spawn_failed", message: error, transient: false, usage: [], now: now, into: &effects)
        case .exited(let message, let attempt, let status, let answer):
            guard let t = turns[message], t.state == .running, t.attempt == attempt else { break }
            if let cause = t.stopping {
                if cause == .cancelled {
                    cancel(message, into: &effects)
                } else {
                    let usage: [Event.Detail]
                    switch answer { case .reply(_, _, let u), .failure(_, _, _, let u): usage = u }
                    attemptFailed(message, reason: "timeout", message: "no answer within the timeout (\(status))",
                                  transient: false, usage: usage, now: now, into: &effects)
                }
                break
            }
            switch answer {
            case .reply(let replyID, let sessionID, let usage):
                var details: [Event.Detail] = [.init("reply_id", .string(replyID))]
                if let sessionID { details.append(.init("session_id", .string(sessionID))) }
                transition(message, to: .replied, details: details + usage, into: &effects)
                effects.append(.postStaged(replyID: replyID, to: t.sender))
                effects.append(.acknowledge(message: message, reason: "answered"))
            case .failure(let reason, let text, let transient, let usage):
                attemptFailed(message, reason: reason, message: text, transient: transient, usage: usage, now: now, into: &effects)
            }
        case .tick:
            tick(now: now, into: &effects)
        case .cancelThread(let thread):
            guard !cancelledThreads.contains(thread) else { break }
            log(Event(event: EventName.threadCancelled, details: [.init("thread", .string(thread))]), into: &effects)
            for t in turns(inThread: thread) where !t.state.isFinal {
                if t.state == .running {
                    stopAgent(t.message, reason: "cancelled", now: now, into: &effects)
                } else if t.state == .spawning {
                    turns[t.message]?.cancelRequested = true // the spawn's answer ends it
                } else {
                    cancel(t.message, into: &effects)
                }
            }
        case .resume(let responder):
            guard paused.contains(responder) || (consecutiveErrors[responder] ?? 0) > 0 else { break }
            log(Event(event: EventName.responderResumed, details: [.init("responder", .string(responder))]), into: &effects)
        }
        schedule(now: now, into: &effects)
        return effects
    }

    /// A message reached a responder's maildir: a turn is queued, or the thread is stuck.
    mutating func delivered(_ r: AgentMessage, thread: String, into effects: inout [TurnEffect]) {
        guard let spec = responders[r.to], spec.wakes(on: r.type), turns[r.id] == nil else { return }
        if cancelledThreads.contains(thread) {
            effects.append(.acknowledge(message: r.id, reason: "thread_cancelled"))
            return
        }
        if stuckThreads.contains(thread) {
            effects.append(.acknowledge(message: r.id, reason: "thread_stuck"))
            return
        }
        let n = (threadTurns[thread] ?? 0) + 1
        var t = Turn(message: r.id, thread: thread, responder: r.to, sender: r.from, turn: n,
                     run: r.run, phase: r.phase, batch: r.batch)
        if n > spec.maxTurnsPerThread {
            t.state = .stuck
            turns[r.id] = t
            log(transitionEvent(t, from: nil, to: .stuck, reason: "turn_limit",
                                details: [.init("max_turns", .int(spec.maxTurnsPerThread))]), into: &effects)
            let last = turns(inThread: thread).last { $0.lastError != nil }?.lastError
            log(Event(event: EventName.threadStuck, run: r.run, phase: r.phase, batch: r.batch, from: r.from, to: r.to,
                      reason: "turn_limit", details: [
                        .init("thread", .string(thread)), .init("message", .string(r.id)),
                        .init("turns", .int(n - 1)), .init("max_turns", .int(spec.maxTurnsPerThread)),
                      ]), into: &effects)
            effects.append(.stuckReport(thread: thread, responder: r.to, waiting: r.from, lastError: last))
            effects.append(.post(TurnReply.stuck(r, thread: thread, limit: spec.maxTurnsPerThread)))
            effects.append(.acknowledge(message: r.id, reason: "thread_stuck"))
            return
        }
        turns[r.id] = t
        log(transitionEvent(t, from: nil, to: .queued, reason: r.type.rawValue, details: []), into: &effects)
    }

    /// An attempt ended without an answer: a retry (transient ones use no attempt), or the turn
    /// fails with an error reply to its sender, and the breaker counts it.
    mutating func attemptFailed(_ message: String, reason: String, message text: String, transient: Bool,
                                usage: [Event.Detail], now: Instant, into effects: inout [TurnEffect]) {
        guard let t = turns[message], let spec = responders[t.responder] ?? Optional(ResponderSpec(name: t.responder, argv: [])) else { return }
        if transient || t.attempt < spec.maxAttempts {
            let delay = transient ? PipelineSpec.Backoff.transientDefault.delay(afterAttempt: t.attempt)
                : PipelineSpec.Backoff().delay(afterAttempt: t.attempt)
            transition(message, to: .retryWait, reason: reason, details: [
                .init("error", .string(String(text.prefix(300)))), .init("attempt_used", .bool(!transient)),
                .init("retry_in_ms", .int(Int((delay * 1000).rounded()))),
            ] + usage, into: &effects)
            turns[message]?.deadline = now.adding(seconds: delay)
            return
        }
        let replyID = TurnReply.id(message: message, turn: t.turn)
        transition(message, to: .failed, reason: reason, details: [
            .init("error", .string(String(text.prefix(300)))), .init("reply_id", .string(replyID)),
        ] + usage, into: &effects)
        guard let failed = turns[message] else { return }
        effects.append(.post(TurnReply.error(failed, replyID: replyID, reason: reason, message: failed.lastError)))
        effects.append(.acknowledge(message: message, reason: "failed"))
        let errors = consecutiveErrors[t.responder] ?? 0
        if errors >= spec.maxConsecutiveErrors, !paused.contains(t.responder) {
            log(Event(event: EventName.responderPaused, reason: "consecutive_errors", details: [
                .init("responder", .string(t.responder)), .init("errors", .int(errors)),
                .init("message", .string("\(errors) turns in a row failed (the last: \(reason)); "
                    + "fix it, then: agent-watcher resume --responder \(t.responder)")),
            ]), into: &effects)
        }
    }

    mutating func cancel(_ message: String, into effects: inout [TurnEffect]) {
        guard let t = turns[message] else { return }
        let replyID = TurnReply.id(message: message, turn: t.turn)
        transition(message, to: .cancelled, reason: "cancelled", details: [.init("reply_id", .string(replyID))], into: &effects)
        guard let c = turns[message] else { return }
        effects.append(.post(TurnReply.error(c, replyID: replyID, reason: "cancelled", message: "the thread was cancelled")))
        effects.append(.acknowledge(message: message, reason: "cancelled"))
    }

    /// Timeouts (SIGTERM to the group), kill deadlines (SIGKILL), retry delays.
    mutating func tick(now: Instant, into effects: inout [TurnEffect]) {
        for t in turns.values.sorted(by: { $0.message < $1.message }) where t.state == .running {
            guard var life = t.life else { continue }
            let actions = life.tick(now: now) // the deadline stops it (`timeout`), the grace's end kills it
            turns[t.message]?.life = life
            signalAgent(t.message, actions, into: &effects)
        }
    }

    mutating func stopAgent(_ message: String, reason: String, now: Instant, into effects: inout [TurnEffect]) {
        guard var life = turns[message]?.life else { return }
        let actions = life.stop(reason: reason, now: now)
        turns[message]?.life = life
        signalAgent(message, actions, into: &effects)
    }

    func signalAgent(_ message: String, _ actions: [ChildLifetime.Action], into effects: inout [TurnEffect]) {
        guard let pid = turns[message]?.pid else { return }
        effects += ChildLifetime.signals(actions).map { .signal(message: message, pid: pid, $0) }
    }

    /// Starts queued turns and due retries while their responder has a free slot and is not paused.
    mutating func schedule(now: Instant, into effects: inout [TurnEffect]) {
        let due = turns.values.filter { $0.state == .retryWait && ($0.deadline.map { $0 <= now } ?? true) }
            .sorted { $0.message < $1.message }.map(\.message)
        for message in due + queue {
            guard let t = turns[message], t.state == .queued || t.state == .retryWait, !paused.contains(t.responder),
                  let spec = responders[t.responder], active(t.responder) < spec.concurrency else { continue }
            if t.state == .retryWait, let at = t.deadline, at > now { continue }
            transition(message, to: .spawning, attempt: t.nextAttempt, into: &effects)
            turns[message]?.deadline = nil
            if let s = turns[message] { effects.append(.spawn(s, sessionID: session(thread: s.thread, responder: s.responder))) }
        }
    }

    // MARK: - Records

    func transitionEvent(_ t: Turn, from: Turn.State?, to: Turn.State, reason: String?, attempt: Int? = nil,
                         details: [Event.Detail]) -> Event {
        let a = attempt ?? t.attempt
        return Event(event: EventName.turnTransition, run: t.run, phase: t.phase, batch: t.batch, attempt: a > 0 ? a : nil,
                     from: from?.rawValue, to: to.rawValue, reason: reason, details: [
                        .init("thread", .string(t.thread)), .init("message", .string(t.message)),
                        .init("responder", .string(t.responder)), .init("sender", .string(t.sender)),
                        .init("turn", .int(t.turn)),
                     ] + details)
    }

    /// Logs a transition of a known turn and folds it (the same fold as replay).
    mutating func transition(_ message: String, to: Turn.State, reason: String? = nil, attempt: Int? = nil,
                             details: [Event.Detail] = [], into effects: inout [TurnEffect]) {
        guard let t = turns[message] else { return }
        log(transitionEvent(t, from: t.state, to: to, reason: reason, attempt: attempt, details: details), into: &effects)
    }

    mutating func log(_ e: Event, into effects: inout [TurnEffect]) {
        apply(e)
        effects.append(.log(e))
    }
}
