/// One batch's state. The logged part (state, attempt, pid, reason, checksum) changes only
/// through `apply(_:)`, which live running and replay share; the live part (deadlines,
/// whether the agent is alive) is rebuilt by recovery.
public struct Batch: Equatable, Sendable {
    public let id: BatchID
    public internal(set) var state: BatchState = .pending
    /// Attempts started so far (0 before the first).
    public internal(set) var attempt = 0
    /// Attempts this batch may use; a `retry` command raises it.
    public internal(set) var attemptsAllowed: Int
    public internal(set) var pid: Int32?
    /// When the agent `pid` started (`/proc/<pid>/stat` field 22), as its `running` record says.
    public internal(set) var startTime: UInt64?
    public internal(set) var lastReason: String?
    /// Whose fault the last failure was (nil: none, or a record without a reason).
    public internal(set) var lastClass: FailureClass?
    /// An output kept in the outbox while the run waits for the operator (its validator could
    /// not run, or the main file changed): it is checked again, not re-made, when the run goes on.
    public internal(set) var heldPath: String?
    public internal(set) var lastErrorCount: Int?
    public internal(set) var mergedChecksum: String?
    /// The checksum of the file the last failed attempt was judged on (so the same file, found
    /// again after a crash before it was moved aside, is not judged twice).
    public internal(set) var failedChecksum: String?
    /// The error fingerprint of every failed attempt, oldest first (see `DrainPlanner`).
    public internal(set) var fingerprints: [String] = []

    // Live only.
    public internal(set) var lastReport: ValidationReport?
    public internal(set) var agentAlive = false
    /// The agent's lifetime (deadline, SIGTERM, grace, SIGKILL) while it runs.
    var life: ChildLifetime?
    /// Why the watcher is stopping the agent (`timeout`, `cancelled`, `superseded`).
    var stopReason: String? { life?.stopReason }
    var retryAt: Instant?
    var settleAt: Instant?
    var settlePath: String?
    var validatingPath: String?

    public init(id: BatchID, attemptsAllowed: Int) {
        self.id = id
        self.attemptsAllowed = attemptsAllowed
    }

    /// Folds one logged record into the batch. The only place logged fields change.
    mutating func apply(_ e: Event) {
        guard e.event == EventName.transition, let raw = e.to, let to = BatchState(rawValue: raw) else { return }
        state = to
        if let a = e.attempt { attempt = e.bool("attempt_used") == false ? max(0, a - 1) : a }
        if let p = e.int("pid") {
            pid = Int32(p)
            startTime = e.int("start_time").map { UInt64(clamping: $0) }
        }
        if let allowed = e.int("attempts_allowed") { attemptsAllowed = allowed }
        switch to {
        case .retryWait, .failed, .blocked, .cancelled, .skipped:
            lastReason = e.reason
            lastClass = e.failureClass
            lastErrorCount = e.int("errors")
            if let f = e.string("fingerprint") { fingerprints.append(f) }
            failedChecksum = e.string("checksum")
            heldPath = lastClass == .validatorFailed || lastClass == .mainFileChanged ? e.string("path") : nil
        case .merged:
            mergedChecksum = e.string("checksum")
            lastReason = nil
            lastClass = nil
        default: break
        }
        if to == .pending { lastReason = nil; lastClass = nil; heldPath = nil }
        if to == .validating { heldPath = nil }
    }

    /// The agent's SIGTERM/SIGKILL deadline and the other deadlines that can wake the loop.
    var deadlines: [Instant] {
        var all: [Instant] = []
        if state == .running || state == .spawning, let settleAt { all.append(settleAt) }
        // After SIGKILL nothing more is due: its exit is awaited (the shell's group sweep gives up on stragglers).
        if agentAlive, let life, life.phase != .killed, let d = life.nextDeadline { all.append(d) }
        if state == .retryWait, let retryAt { all.append(retryAt) }
        return all
    }
}
