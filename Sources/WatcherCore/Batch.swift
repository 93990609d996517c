/// One batch's state. The logged part (state, attempt, pid, reason, checksum) changes only
/// through `apply(_:)`, which live running and replay share; the live part (deadlines,
/// whether the agent is alive) is rebuilt by recovery.
public struct Batch: Equatable, Sendable {
    public let id: BatchID
    /// Attempts started so far (0 before the first).
    public internal(set) var attempt = 0
    /// Attempts this batch may use; a `retry` command raises it.
    public internal(set) var attemptsAllowed: Int
    /// When the agent `pid` started (`/proc/<pid>/stat` field 22), as its `running` record says.
    public internal(set) var startTime: UInt64?
    public internal(set) var pid: Int32?
    public internal(set) var state: BatchState = .pending
    public internal(set) var agentAlive = false // live only
    public internal(set) var mergedChecksum: String?
    /// What most batches never have (a failure's facts, the live deadlines and paths), kept out
    /// of line: a merged batch of a long run is about 100 bytes, not 350. Empty or one element
    /// (the array gives the value semantics); read and written through the properties below.
    private var rare: [Rare] = []

    struct Rare: Equatable, Sendable {
        var lastReason: String?
        var lastClass: FailureClass?
        var heldPath: String?
        var lastErrorCount: Int?
        var failedChecksum: String?
        var fingerprints: [String] = []
        var lastReport: ValidationReport?
        var life: ChildLifetime?
        var retryAt: Instant?
        var settleAt: Instant?
        var settlePath: String?
        var validatingPath: String?
        static let none = Rare()
    }

    private var r: Rare { rare.first ?? .none }
    /// Sets a rare field; setting one to nil (or empty) on a batch without any allocates nothing.
    private mutating func setRare<T: Equatable>(_ key: WritableKeyPath<Rare, T>, _ value: T) {
        if rare.isEmpty {
            guard value != Rare.none[keyPath: key] else { return }
            rare = [Rare()]
        }
        rare[0][keyPath: key] = value
    }

    public internal(set) var lastReason: String? { get { r.lastReason } set { setRare(\.lastReason, newValue) } }
    /// Whose fault the last failure was (nil: none, or a record without a reason).
    public internal(set) var lastClass: FailureClass? { get { r.lastClass } set { setRare(\.lastClass, newValue) } }
    /// An output kept in the outbox while the run waits for the operator (its validator could
    /// not run, or the main file changed): it is checked again, not re-made, when the run goes on.
    public internal(set) var heldPath: String? { get { r.heldPath } set { setRare(\.heldPath, newValue) } }
    public internal(set) var lastErrorCount: Int? { get { r.lastErrorCount } set { setRare(\.lastErrorCount, newValue) } }
    /// The checksum of the file the last failed attempt was judged on (so the same file, found
    /// again after a crash before it was moved aside, is not judged twice).
    public internal(set) var failedChecksum: String? { get { r.failedChecksum } set { setRare(\.failedChecksum, newValue) } }
    /// The error fingerprint of every failed attempt, oldest first (see `DrainPlanner`).
    public internal(set) var fingerprints: [String] { get { r.fingerprints } set { setRare(\.fingerprints, newValue) } }

    // Live only.
    public internal(set) var lastReport: ValidationReport? { get { r.lastReport } set { setRare(\.lastReport, newValue) } }
    /// The agent's lifetime (deadline, SIGTERM, grace, SIGKILL) while it runs.
    var life: ChildLifetime? { get { r.life } set { setRare(\.life, newValue) } }
    /// Why the watcher is stopping the agent (`timeout`, `cancelled`, `superseded`).
    var stopReason: String? { life?.stopReason }
    var retryAt: Instant? { get { r.retryAt } set { setRare(\.retryAt, newValue) } }
    var settleAt: Instant? { get { r.settleAt } set { setRare(\.settleAt, newValue) } }
    var settlePath: String? { get { r.settlePath } set { setRare(\.settlePath, newValue) } }
    var validatingPath: String? { get { r.validatingPath } set { setRare(\.validatingPath, newValue) } }

    public static func == (a: Batch, b: Batch) -> Bool {
        a.id == b.id && a.attempt == b.attempt && a.attemptsAllowed == b.attemptsAllowed && a.startTime == b.startTime
            && a.pid == b.pid && a.state == b.state && a.agentAlive == b.agentAlive && a.mergedChecksum == b.mergedChecksum
            && a.r == b.r
    }

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
            if !rare.isEmpty { lastReason = nil; lastClass = nil }
        default: break
        }
        guard !rare.isEmpty else { return } // nothing below to clear
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
