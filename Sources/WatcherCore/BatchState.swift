/// The states of one batch. Raw values are what the event log says.
public enum BatchState: String, CaseIterable, Sendable {
    case pending, spawning, running, validating, merging, merged
    case retryWait = "retry_wait"
    case failed, blocked, skipped, cancelled

    /// No agent, no work in flight, nothing will happen without a control command.
    public var isTerminal: Bool {
        switch self {
        case .merged, .failed, .blocked, .skipped, .cancelled: return true
        default: return false
        }
    }

    /// Holds one of the run's concurrency slots.
    public var isActive: Bool {
        switch self {
        case .spawning, .running, .validating, .merging: return true
        default: return false
        }
    }

    /// Dependants may start: the batch's items exist (merged) or were given up on purpose (skipped).
    public var satisfiesDependants: Bool { self == .merged || self == .skipped }
}
