/// Every responder turn on the root, as a value: the turn machine. `handle(_:now:)` turns a
/// fact into effects; `apply(_:)` folds a logged record, and live transitions go through the
/// same fold, so replay and live running cannot disagree. Neither touches the disk or a clock.
public struct TurnBook: Equatable, Sendable {
    /// The responders the specs declare, by name (set by the shell at start and on reload).
    public var responders: [String: ResponderSpec] = [:]
    public internal(set) var turns: [String: Turn] = [:]
    /// Responder turns per thread so far (the turn limit counts these).
    public internal(set) var threadTurns: [String: Int] = [:]
    public internal(set) var stuckThreads: Set<String> = []
    public internal(set) var cancelledThreads: Set<String> = []
    /// Responders paused by their breaker, until `resume --responder`.
    public internal(set) var paused: Set<String> = []
    /// Failed turns in a row, per responder.
    public internal(set) var consecutiveErrors: [String: Int] = [:]
    /// The CLI session of each responder in each thread (`thread\u{0}responder`).
    public internal(set) var sessions: [String: String] = [:]
    /// Turns waiting for a slot, in the order they were queued (message ids).
    var queue: [String] = []

    public init(responders: [ResponderSpec] = []) {
        for r in responders { self.responders[r.name] = r }
    }

    /// Between SIGTERM and SIGKILL of a responder's process group, per responder (its spec's
    /// `killGraceSeconds`); ``ChildLifetime/defaultGraceSeconds`` when not set.
    public var killGraceSeconds: [String: Double] = [:]

    func grace(_ responder: String) -> Double { killGraceSeconds[responder] ?? ChildLifetime.defaultGraceSeconds }

    public func turn(_ message: String) -> Turn? { turns[message] }

    /// The turns of a thread, in turn order.
    public func turns(inThread thread: String) -> [Turn] {
        turns.values.filter { $0.thread == thread }.sorted { ($0.turn, $0.message) < ($1.turn, $1.message) }
    }

    public func session(thread: String, responder: String) -> String? { sessions[thread + "\u{0}" + responder] }

    /// Turns with an agent (spawning or running) of `responder`.
    public func active(_ responder: String) -> Int {
        turns.values.filter { $0.responder == responder && $0.state.hasAgent }.count
    }

    /// Turns that may have an agent alive (for the shell's recovery and stop).
    public var inFlight: [Turn] { turns.values.filter { $0.state.hasAgent }.sorted { $0.message < $1.message } }

    /// The earliest timeout, kill deadline or retry delay.
    public func nextDeadline() -> Instant? {
        turns.values.flatMap { t -> [Instant] in
            [t.state == .retryWait ? t.deadline : nil, t.life?.phase == .killed ? nil : t.life?.nextDeadline].compactMap { $0 }
        }.min()
    }

    static func sessionKey(_ thread: String, _ responder: String) -> String { thread + "\u{0}" + responder }
}

extension EventName {
    public static let turnTransition = "turn.transition"
    public static let threadStuck = "thread.stuck"
    public static let threadCancelled = "thread.cancelled"
    public static let responderPaused = "responder.paused"
    public static let responderResumed = "responder.resumed"
}
