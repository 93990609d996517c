/// Which ready batch of a run takes a free slot first (the spec's `order`).
///
/// `chain` (the default) schedules for the whole run: among ready batches it takes the one
/// furthest along its chain (batch k's later phases before batch k+1's first: early batches
/// reach the last phase early, so the first end-to-end results come first), unless the run
/// could then end later than it must: when the batch with the longest chain still to go (the
/// lowest phase) has less than ``slackBatches`` batch-times of slack, it goes first. The
/// durations are not known before an agent runs, so every batch counts as one batch-time.
/// `phase-first` is the order of earlier versions: the lowest phase, then the lowest batch.
public enum SchedulingOrder: String, CaseIterable, Equatable, Sendable {
    case chain
    case phaseFirst = "phase-first"

    /// The slack, in batch-times, below which the longest chain goes first.
    public static let slackBatches = 1.5

    /// Whether the ready batch with the longest chain to go must start now for the run to end
    /// when it can. The run ends no earlier than `(waiting + active / 2) / concurrency`
    /// batch-times from now (an active batch is half done on average); that batch's chain
    /// needs `chainLength` batch-times, and the `waitingInPhase - 1` others of its phase start
    /// after it, `concurrency` per batch-time. Slack = end - chain - those starts.
    ///
    /// - Parameters:
    ///   - waiting: the run's batches not started yet (pending or waiting to retry), this one included.
    ///   - active: the run's batches holding a slot.
    ///   - chainLength: the phases left in this batch's chain, its own included.
    ///   - waitingInPhase: the batches of its phase not started yet, this one included.
    public static func longestChainIsDue(waiting: Int, active: Int, concurrency: Int, chainLength: Int,
                                         waitingInPhase: Int) -> Bool {
        let k = Double(max(1, concurrency))
        let slack = (Double(waiting) + Double(active) / 2) / k - Double(chainLength) - Double(waitingInPhase - 1) / k
        return slack < slackBatches
    }
}
