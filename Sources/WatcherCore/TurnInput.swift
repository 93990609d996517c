/// A fact the shell tells the turn machine (``TurnBook``).
public enum TurnInput: Equatable, Sendable {
    /// A message was delivered into a responder's maildir (`to` names the responder); `thread`
    /// is the id of its thread's first message.
    case delivered(AgentMessage, thread: String)
    case spawned(message: String, attempt: Int, pid: Int32)
    case spawnFailed(message: String, attempt: Int, error: String)
    /// The attempt's agent exited; `answer` is what the shell read from it.
    case exited(message: String, attempt: Int, status: String, answer: TurnAnswer)
    /// Time passed: timeouts, kill deadlines and retry delays at or before `now` fire.
    case tick
    /// `cancel --thread`: no more turns in it; running ones are stopped.
    case cancelThread(String)
    /// `resume --responder`: a paused responder takes turns again.
    case resume(responder: String)
}

/// What a finished attempt gave.
public enum TurnAnswer: Equatable, Sendable {
    /// An answer (its id was derived and its envelope staged by the shell), with the session id
    /// and usage the CLI's JSON gave, if any.
    case reply(replyID: String, sessionID: String?, usage: [Event.Detail])
    /// No answer: `reason` a code (`crashed`, `no_answer`, `unreadable_output`, `agent_error`),
    /// `transient` when it was the CLI's service (rate limit, overload): no attempt is used.
    case failure(reason: String, message: String, transient: Bool, usage: [Event.Detail])
}

/// A request from the turn machine to the shell; every `.log` of a list is durable before the rest.
public enum TurnEffect: Equatable, Sendable {
    case log(Event)
    /// Render the prompt and start the responder for this turn's `attempt`; `sessionID`: resume it.
    case spawn(Turn, sessionID: String?)
    case signal(message: String, pid: Int32, AgentSignal)
    /// Put the staged answer `replyID` (in `agents/<to>/tmp/`) into `agents/<to>/new/`.
    case postStaged(replyID: String, to: String)
    /// Write this message into its recipient's maildir (error replies, stuck notices).
    case post(AgentMessage)
    /// Move the answered message to `cur/` and log `message.acknowledged` with this reason.
    case acknowledge(message: String, reason: String)
    /// Write `logs/stuck/<thread>.md`.
    case stuckReport(thread: String, responder: String, waiting: String, lastError: String?)
}
