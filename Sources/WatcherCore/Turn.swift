/// One responder turn: the answer to one delivered message (keyed by the message's id).
/// `queued -> spawning -> running -> replied`, or `retry_wait` (and again `spawning`),
/// `failed` (after `maxAttempts`), `stuck` (the thread reached its turn limit), `cancelled`.
public struct Turn: Equatable, Sendable {
    public enum State: String, CaseIterable, Equatable, Sendable {
        case queued, spawning, running, replied
        case retryWait = "retry_wait"
        case failed, stuck, cancelled

        /// Nothing more happens to a turn in this state.
        public var isFinal: Bool { self == .replied || self == .failed || self == .stuck || self == .cancelled }
        /// An agent may be alive for a turn in this state.
        public var hasAgent: Bool { self == .spawning || self == .running }
    }

    /// The id of the message it answers.
    public var message: String
    /// The id of the thread's first message.
    public var thread: String
    public var responder: String
    /// Who sent the message: the one waiting for the reply.
    public var sender: String
    /// The batch the message was about, if it named one.
    public var run: String?
    public var phase: String?
    public var batch: Int?
    /// Its number among the thread's responder turns (1 for the first).
    public var turn: Int
    /// The attempt last started (0 before the first).
    public var attempt: Int = 0
    public var state: State = .queued
    public var pid: Int32?
    /// The last attempt's failure did not use an attempt (a transient failure, a restart).
    public var attemptUsed = true
    /// The reply posted (or to post) for it: a `response`, or an `error` when it failed.
    public var replyID: String?
    public var reason: String?
    public var lastError: String?
    /// Live only: when a retry starts.
    public var deadline: Instant?
    /// Live only: the running agent's lifetime (timeout, SIGTERM, grace, SIGKILL).
    public var life: ChildLifetime?
    /// Live only: the thread was cancelled while the agent was being spawned.
    public var cancelRequested = false
    /// The agent was stopped by the watcher (timeout or cancel): its answer is not taken.
    public var stopping: StopCause? {
        cancelRequested ? .cancelled : life?.stopReason.flatMap(StopCause.init(rawValue:))
    }

    public enum StopCause: String, Equatable, Sendable { case timeout, cancelled }

    public init(message: String, thread: String, responder: String, sender: String, turn: Int,
                run: String? = nil, phase: String? = nil, batch: Int? = nil) {
        self.message = message
        self.thread = thread
        self.responder = responder
        self.sender = sender
        self.turn = turn
        self.run = run
        self.phase = phase
        self.batch = batch
    }

    /// The attempt number the next spawn uses.
    public var nextAttempt: Int { attemptUsed || attempt == 0 ? attempt + 1 : attempt }
}
