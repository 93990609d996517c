/// The one lifetime of every child the daemon starts (batch agents, validators, responders) and
/// of what they leave behind in their process group: spawn, an optional deadline, SIGTERM to the
/// group (a stop: timeout, cancel, superseded, shutdown, a leader gone with members left), the
/// grace period, SIGKILL, then reaping (given up after ``reapSeconds``: a process stuck in the
/// kernel). Pure: the shell passes the time in and carries out the actions it gets back.
public struct ChildLifetime: Equatable, Sendable {
    /// Between SIGTERM and SIGKILL when the spec says nothing else (`killGraceSeconds`).
    public static let defaultGraceSeconds = 5.0
    /// After SIGKILL: how long reaping may take before the daemon stops waiting.
    public static let reapSeconds = 10.0

    public enum Phase: String, Equatable, Sendable {
        /// Running its course (until its deadline, if it has one).
        case running
        /// SIGTERM sent to the group; SIGKILL at `killAt`.
        case terminating
        /// SIGKILL sent; given up on at `abandonAt` if it is not reaped by then.
        case killed
        /// Reaped, and its group is empty.
        case ended
    }

    /// What to do to the child's process group.
    public enum Action: String, Equatable, Sendable {
        case terminate = "SIGTERM"
        case kill = "SIGKILL"
        /// It did not go after SIGKILL within ``reapSeconds``: stop waiting for it.
        case abandon
    }

    public private(set) var phase: Phase = .running
    /// Its deadline (a timeout), if it has one.
    public var deadline: Instant?
    public let grace: Double
    public private(set) var killAt: Instant?
    public private(set) var abandonAt: Instant?
    /// Why it is being stopped (`timeout`, `cancelled`, `superseded`, ...); nil while it runs its course.
    public private(set) var stopReason: String?

    public init(deadline: Instant? = nil, grace: Double = ChildLifetime.defaultGraceSeconds) {
        self.deadline = deadline
        self.grace = max(0, grace)
    }

    /// A child whose leader has exited with members of its group (or setsid'd descendants) left:
    /// they are stopped at once, with the same grace.
    public static func leftovers(now: Instant, grace: Double) -> (ChildLifetime, [Action]) {
        var life = ChildLifetime(grace: grace)
        let actions = life.stop(reason: "leader_exited", now: now)
        return (life, actions)
    }

    /// Ask it to end: SIGTERM now, SIGKILL after the grace period. Once is enough: a second stop
    /// changes nothing (the first reason stands).
    public mutating func stop(reason: String, now: Instant) -> [Action] {
        guard phase == .running else { return [] }
        phase = .terminating
        stopReason = reason
        killAt = now.adding(seconds: grace)
        return [.terminate]
    }

    /// No grace: SIGKILL now (a shutdown whose grace is over, a failure of the daemon itself).
    public mutating func kill(reason: String, now: Instant) -> [Action] {
        guard phase == .running || phase == .terminating else { return [] }
        if stopReason == nil { stopReason = reason }
        phase = .killed
        killAt = nil
        abandonAt = now.adding(seconds: Self.reapSeconds)
        return [.kill]
    }

    /// What is due at `now`: the deadline stops it (`timeout`), the grace's end kills it, the
    /// reaping's end abandons it.
    public mutating func tick(now: Instant) -> [Action] {
        switch phase {
        case .running:
            guard let deadline, deadline <= now else { return [] }
            return stop(reason: "timeout", now: now)
        case .terminating:
            guard let killAt, killAt <= now else { return [] }
            return kill(reason: stopReason ?? "stop", now: now)
        case .killed:
            guard let abandonAt, abandonAt <= now else { return [] }
            phase = .ended
            self.abandonAt = nil
            return [.abandon]
        case .ended:
            return []
        }
    }

    /// It was reaped and its group is empty.
    public mutating func ended() {
        phase = .ended
        killAt = nil
        abandonAt = nil
    }

    /// When ``tick(now:)`` has something to do next.
    public var nextDeadline: Instant? {
        switch phase {
        case .running: return deadline
        case .terminating: return killAt
        case .killed: return abandonAt
        case .ended: return nil
        }
    }

    /// The signals for a list of actions, in order (`abandon` is no signal: the shell stops waiting).
    public static func signals(_ actions: [Action]) -> [AgentSignal] {
        actions.compactMap { $0 == .terminate ? .terminate : $0 == .kill ? .kill : nil }
    }

    /// Whether the leftovers of a group whose leader has exited are still to be tracked, given
    /// what is seen of them now: members of the group left, descendants outside it (`setsid`,
    /// found by token or process tree). Anything left: tracked (it gets SIGKILL at the grace's
    /// end). Nothing left: during the grace it is still tracked, as a descendant may be between
    /// fork and `setsid` (seen as a member, so look for members before strays); after SIGKILL,
    /// or once the daemon is `stopping`, it is forgotten at once: a stop does not wait out a
    /// grace for processes that are gone (a late one is reparented to the daemon, the
    /// subreaper, and the stop signals its orphans).
    public func keepsTracking(membersLeft: Bool, descendantsOutside: Int, stopping: Bool) -> Bool {
        if phase == .ended { return false }
        if membersLeft || descendantsOutside > 0 { return true }
        if stopping { return false }
        return phase != .killed
    }

    /// Stopped by the watcher (its answer or output is not taken as its own).
    public var isStopping: Bool { stopReason != nil }
}
