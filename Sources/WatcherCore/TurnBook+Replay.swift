extension TurnBook {
    /// Folds one logged record (`turn.transition`, `thread.stuck`, `thread.cancelled`,
    /// `responder.paused`, `responder.resumed`; others are ignored).
    public mutating func apply(_ e: Event) {
        switch e.event {
        case EventName.turnTransition:
            guard let message = e.string("message"), let to = e.to.flatMap(Turn.State.init(rawValue:)) else { return }
            var t = turns[message] ?? Turn(message: message, thread: e.string("thread") ?? message,
                                           responder: e.string("responder") ?? "?", sender: e.string("sender") ?? "?",
                                           turn: e.int("turn") ?? 1, run: e.run, phase: e.phase, batch: e.batch)
            let was = t.state
            t.state = to
            if let a = e.attempt { t.attempt = a }
            t.reason = e.reason
            switch to {
            case .queued:
                if !queue.contains(message) { queue.append(message) }
            case .spawning:
                t.pid = nil
                queue.removeAll { $0 == message }
            case .running:
                t.pid = e.int("pid").map(Int32.init)
            case .retryWait:
                t.pid = nil
                t.attemptUsed = e.bool("attempt_used") ?? true
                t.lastError = e.string("error") ?? t.lastError
            case .replied:
                t.pid = nil
                t.replyID = e.string("reply_id")
                consecutiveErrors[t.responder] = 0
                if let s = e.string("session_id") { sessions[Self.sessionKey(t.thread, t.responder)] = s }
            case .failed:
                t.pid = nil
                t.replyID = e.string("reply_id")
                t.lastError = e.string("error") ?? t.lastError
                if was != .failed { consecutiveErrors[t.responder, default: 0] += 1 }
            case .stuck, .cancelled:
                t.pid = nil
                t.replyID = e.string("reply_id")
                queue.removeAll { $0 == message }
            }
            if to.isFinal || to == .retryWait { t.life = nil; t.cancelRequested = false }
            if to.isFinal { t.deadline = nil }
            turns[message] = t
            threadTurns[t.thread] = max(threadTurns[t.thread] ?? 0, to == .stuck ? 0 : t.turn)
        case EventName.threadStuck:
            if let thread = e.string("thread") { stuckThreads.insert(thread) }
        case EventName.threadCancelled:
            if let thread = e.string("thread") { cancelledThreads.insert(thread) }
        case EventName.responderPaused:
            if let r = e.string("responder") { paused.insert(r) }
        case EventName.responderResumed:
            if let r = e.string("responder") {
                paused.remove(r)
                consecutiveErrors[r] = 0
            }
        default:
            break
        }
    }

    /// After replay: the agents of turns that were spawning or running were stopped by the
    /// shell (the previous life is gone); each such turn waits to be tried again without using
    /// an attempt (reason `watcher_restart`). Turns that ended are made good: their reply is
    /// posted (the shell skips one that is already there) and their message acknowledged.
    public mutating func recover(now: Instant) -> [TurnEffect] {
        var effects: [TurnEffect] = []
        for t in turns.values.sorted(by: { $0.message < $1.message }) {
            switch t.state {
            case .spawning, .running:
                transition(t.message, to: .retryWait, reason: "watcher_restart",
                           details: [.init("attempt_used", .bool(false)), .init("retry_in_ms", .int(0))], into: &effects)
                turns[t.message]?.deadline = now
            case .replied:
                if let id = t.replyID { effects.append(.postStaged(replyID: id, to: t.sender)) }
                effects.append(.acknowledge(message: t.message, reason: "answered"))
            case .failed, .cancelled:
                if let id = t.replyID {
                    effects.append(.post(TurnReply.error(t, replyID: id, reason: t.reason ?? t.state.rawValue, message: t.lastError)))
                }
                effects.append(.acknowledge(message: t.message, reason: t.state.rawValue))
            case .stuck:
                let limit = responders[t.responder]?.maxTurnsPerThread ?? t.turn - 1
                effects.append(.post(TurnReply.stuck(request(t), thread: t.thread, limit: limit)))
                effects.append(.acknowledge(message: t.message, reason: "thread_stuck"))
            case .retryWait:
                turns[t.message]?.deadline = now
            case .queued:
                break
            }
        }
        schedule(now: now, into: &effects)
        return effects
    }

    /// The message a turn answers, as far as the turn knows it (for the notices).
    func request(_ t: Turn) -> AgentMessage {
        AgentMessage(id: t.message, from: t.sender, to: t.responder, type: .request, run: t.run, phase: t.phase, batch: t.batch)
    }
}
