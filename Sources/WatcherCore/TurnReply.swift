/// The messages the turn machine posts: a responder's answer (`response`), the `error` reply of
/// a turn that failed or was cancelled, and the `feedback` notice of a stuck thread. Their ids
/// are derived from the message they answer (and the turn), so posting one again after a crash
/// finds it already there: it is never posted twice.
public enum TurnReply {
    /// `<message>.r<turn>`, or, when that is longer than a plain name may be, the message id's
    /// beginning, a hash of it and the suffix.
    public static func id(message: String, turn: Int) -> String { derived(message, suffix: ".r\(turn)") }

    /// The id of the notice that the thread is stuck, sent to the sender of `message`.
    public static func stuckID(message: String) -> String { derived(message, suffix: ".stuck") }

    static func derived(_ message: String, suffix: String) -> String {
        if message.utf8.count + suffix.utf8.count <= PlainName.maxBytes { return message + suffix }
        let hash = String(SHA256.hex(Array(message.utf8)).prefix(16))
        let keep = PlainName.maxBytes - suffix.utf8.count - hash.count - 1
        return String(message.prefix(keep)) + "-" + hash + suffix
    }

    /// The answer of `turn`: a `response` from the responder to the sender, `reply_to` the message.
    public static func response(_ turn: Turn, replyID: String, text: String) -> AgentMessage {
        AgentMessage(id: replyID, from: turn.responder, to: turn.sender, type: .response, run: turn.run, phase: turn.phase,
                     batch: turn.batch, body: .string(text), replyTo: turn.message)
    }

    /// The `error` reply of a turn that ended without an answer, naming why.
    public static func error(_ turn: Turn, replyID: String, reason: String, message: String?) -> AgentMessage {
        var body: [(key: String, value: JSONValue)] = [("error", .string(reason)), ("attempts", .number(Double(turn.attempt)))]
        if let message { body.append(("message", .string(message))) }
        return AgentMessage(id: replyID, from: turn.responder, to: turn.sender, type: .error, run: turn.run, phase: turn.phase,
                            batch: turn.batch, body: .object(body), replyTo: turn.message)
    }

    /// The notice to the sender of `request` that its thread reached the turn limit.
    public static func stuck(_ request: AgentMessage, thread: String, limit: Int) -> AgentMessage {
        let text = "thread \(thread) is stuck: it reached \(limit) responder turns (maxTurnsPerThread); "
            + "\(request.to) will not answer \(request.id). See logs/stuck/\(thread).md."
        return AgentMessage(id: stuckID(message: request.id), from: request.to, to: request.from, type: .feedback,
                            run: request.run, phase: request.phase, batch: request.batch,
                            body: .object([("stuck", .string(thread)), ("message", .string(text))]),
                            replyTo: request.id)
    }
}
