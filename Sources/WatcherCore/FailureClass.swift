/// Whose fault a failed attempt was, which decides what it costs. Recorded as `class` in the
/// failing `batch.transition` record. A typed vocabulary, as `Errno` is in swift-system: the
/// log's text is the raw value, and a switch over the known classes cannot silently miss one.
public struct FailureClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The output was there but failed the checks (or conflicted with merged items).
    public static let invalidOutput = FailureClass(rawValue: "invalid_output")
    /// The agent ended without writing its output.
    public static let noOutput = FailureClass(rawValue: "no_output")
    /// The agent did not finish in time and was stopped.
    public static let timeout = FailureClass(rawValue: "timeout")
    /// The agent exited non-zero without an output and without a transient sign, or its CLI said
    /// it failed (`AgentVerdict`) and left no output.
    public static let agentCrashed = FailureClass(rawValue: "agent_crashed")
    /// The agent could not be started.
    public static let spawnFailed = FailureClass(rawValue: "spawn_failed")
    /// The agent CLI's service failed (rate limit, overload): the run backs off, no attempt is used.
    public static let transient = FailureClass(rawValue: "transient")
    /// A validator could not run, crashed or timed out: not the agent's fault; the run pauses.
    public static let validatorFailed = FailureClass(rawValue: "validator_failed")
    /// The phase's main file is not what the daemon last wrote (gone, shrunk, replaced, corrupt):
    /// the operator's to settle; the run pauses and no attempt is used.
    public static let mainFileChanged = FailureClass(rawValue: "main_file_changed")
    /// The operator stopped the watcher (or cancelled): nothing is charged.
    public static let stopped = FailureClass(rawValue: "stopped")

    public static let all: [FailureClass] = [
        .invalidOutput, .noOutput, .timeout, .agentCrashed, .spawnFailed, .transient, .validatorFailed, .mainFileChanged, .stopped,
    ]

    /// Whether a failure of this class uses one of the batch's attempts and puts its errors
    /// into the next prompt. Only the agent's own failures do.
    public var usesAttempt: Bool {
        self == .invalidOutput || self == .noOutput || self == .timeout || self == .agentCrashed
    }

    /// Whether it counts towards the run's circuit breaker (the agent command itself is broken).
    public var tripsBreaker: Bool { self == .agentCrashed || self == .spawnFailed }

    /// The class of a record written before classes were logged, from its reason.
    public init(reason: TransitionReason) {
        switch reason {
        case .validationFailed, .mergeConflict, .outputUnreadable: self = .invalidOutput
        case .timeout: self = .timeout
        case .agentCrashed: self = .agentCrashed
        case .spawnFailed: self = .spawnFailed
        case .transient: self = .transient
        case .validatorFailed: self = .validatorFailed
        case .mainFileChanged: self = .mainFileChanged
        case .stopped, .cancel: self = .stopped
        default: self = .noOutput // no_output, watcher_restart and reasons of older logs
        }
    }

    public var description: String { rawValue }
}

/// Why a batch changed state: the `reason` of a `batch.transition` record.
public struct TransitionReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let validationFailed: TransitionReason = "validation_failed"
    public static let mergeConflict: TransitionReason = "merge_conflict"
    public static let outputUnreadable: TransitionReason = "output_unreadable"
    public static let noOutput: TransitionReason = "no_output"
    public static let agentCrashed: TransitionReason = "agent_crashed"
    public static let spawnFailed: TransitionReason = "spawn_failed"
    public static let timeout: TransitionReason = "timeout"
    public static let transient: TransitionReason = "transient"
    public static let validatorFailed: TransitionReason = "validator_failed"
    public static let mainFileChanged: TransitionReason = "main_file_changed"
    public static let stopped: TransitionReason = "stopped"
    public static let watcherRestart: TransitionReason = "watcher_restart"
    public static let outputDropped: TransitionReason = "output_dropped"
    public static let outputIncomplete: TransitionReason = "output_incomplete"
    public static let outputChanged: TransitionReason = "output_changed"
    public static let revalidate: TransitionReason = "revalidate"
    public static let retry: TransitionReason = "retry"
    public static let skip: TransitionReason = "skip"
    public static let cancel: TransitionReason = "cancel"
    public static let drain: TransitionReason = "drain"
    public static let dependencyFailed: TransitionReason = "dependency_failed"
    public static let dependencyCancelled: TransitionReason = "dependency_cancelled"
    public static let dependencySkipped: TransitionReason = "dependency_skipped"
    public static let dependencyRequeued: TransitionReason = "dependency_requeued"
    public static let superseded: TransitionReason = "superseded"

    public var description: String { rawValue }
}

/// Why a run was paused by the watcher itself (`run.paused`), or by the operator.
public struct PauseReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let operatorRequest = PauseReason(rawValue: "operator")
    /// K consecutive agent crashes or spawn failures: the agent command itself is broken.
    public static let circuitOpen = PauseReason(rawValue: "circuit_open")
    /// A validator could not run: the operator's setup.
    public static let validatorFailed = PauseReason(rawValue: "validator_failed")
    /// A main file is not what the daemon last wrote: restore it, or rebuild it.
    public static let mainFileChanged = PauseReason(rawValue: "main_file_changed")
    /// The agent's program (or a file it needs) is missing: the operator's setup.
    public static let setupError = PauseReason(rawValue: "setup_error")
    /// Spent plus the running agents' likely spend reached the run's `budget`.
    public static let budgetReached = PauseReason(rawValue: "budget_reached")

    public var description: String { rawValue }
}
