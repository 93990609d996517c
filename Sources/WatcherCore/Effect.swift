/// A request from the core to the shell. The shell writes every `.log` of a list durably
/// before it carries out any other effect of that list (write-ahead).
public enum Effect: Equatable, Sendable {
    case log(Event)
    /// Render the prompt (with `feedback` on a retry) and spawn the agent for `attempt`.
    case spawn(BatchID, attempt: Int, feedback: ValidationReport?)
    /// Read and check the output at `path`; answer with `.validated`.
    case validate(BatchID, attempt: Int, path: String)
    /// Merge the validated output at `path` (whose checksum was `checksum`); answer with
    /// `.merged`, `.mergeConflict` or `.outputChanged`.
    case merge(BatchID, attempt: Int, path: String, checksum: String)
    /// Send `signal` to the agent's process group.
    case signal(BatchID, pid: Int32, signal: AgentSignal)
    /// Move a batch output file out of the outbox: to `accepted/`, or to `rejected/` with its errors.
    case archive(BatchID, attempt: Int, path: String, destination: ArchiveDestination)
    /// A batch output arrived for a batch that is already merged: archive it as a duplicate
    /// when its checksum is the merged one, otherwise reject it.
    case settleDuplicate(BatchID, path: String, mergedChecksum: String?)
    /// Move a file that belongs to no batch that can take it to `mailbox/<run>/rejected/`.
    case rejectFile(run: String, path: String, reason: String)
    case runCompleted(String)
    /// `retry RUN PHASE --rebuild`: write a new main file for the command's phase from the
    /// accepted files of `batches` (in this order), keeping the old file aside; answer with
    /// `.mainFileRebuilt`.
    case rebuildMainFile(ControlCommand, batches: [MergedBatch])
}

/// A merged batch and the checksum of the file that was merged (the one kept in `accepted/`).
public struct MergedBatch: Equatable, Sendable {
    public var id: BatchID
    public var checksum: String
    public init(id: BatchID, checksum: String) {
        self.id = id
        self.checksum = checksum
    }
}

public enum AgentSignal: String, Equatable, Sendable { case terminate = "SIGTERM", kill = "SIGKILL" }

public enum ArchiveDestination: Equatable, Sendable {
    case accepted(checksum: String)
    case rejected(ValidationReport)
}
