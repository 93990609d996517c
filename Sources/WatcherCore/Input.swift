/// A fact the shell tells the core.
public enum Input: Equatable, Sendable {
    /// A file for this batch appeared in the outbox: renamed in (complete) or closed after writing
    /// in place (complete after the settle window, or when the agent exits).
    case outputWritten(BatchID, path: String, renamed: Bool)
    /// The agent runs; `startTime` is when it started (field 22 of `/proc/<pid>/stat`, clock
    /// ticks since boot): with the pid it names the process, even after the pid is reused.
    /// `jobID`: the Slurm job of an attempt run by the `slurm` runner.
    case spawned(BatchID, attempt: Int, pid: Int32, startTime: UInt64? = nil, jobID: String? = nil)
    /// The agent could not be started; `missing`: its program (or its working folder) does not
    /// exist, which is the operator's to fix.
    case spawnFailed(BatchID, attempt: Int, message: String, missing: Bool = false)
    /// The agent of the batch's current attempt exited; `outputPath` is its output if one exists;
    /// `exitCode` (nil when killed by a signal) and the tail of its log decide whether a failure
    /// was its service's (`transient`). `agent`: for a JSON agent (`agent.output`), what its
    /// standard output said (usage, logged as `agent.usage`, and the CLI's verdict).
    case agentExited(BatchID, pid: Int32, status: String, success: Bool, outputPath: String?,
                     exitCode: Int? = nil, logTail: String = "", agent: AgentOutcome? = nil)
    /// A validator of the batch's output could not run, crashed or timed out: not the agent's fault.
    case validatorFailed(BatchID, attempt: Int, message: String)
    /// The output was read and checked. `checksum` is nil when it could not be read.
    case validated(BatchID, attempt: Int, report: ValidationReport, checksum: String?, unparseable: Bool)
    case merged(BatchID, attempt: Int, checksum: String, items: Int, alreadyMerged: Bool)
    case mergeConflict(BatchID, attempt: Int, report: ValidationReport)
    /// An agent said its batch is done (a `batch.done` message): its output, if present, is
    /// complete now, without waiting for the settle window.
    case batchDone(BatchID, outputPath: String?)
    /// The file changed between validation and merge: check it again.
    case outputChanged(BatchID, attempt: Int)
    /// The phase's main file is not what the daemon last wrote (or cannot be parsed): the
    /// batch waits, unjudged, and the run pauses (`message` says what was found and how on).
    case mainFileChanged(BatchID, attempt: Int, message: String)
    /// Time passed: deadlines at or before `now` fire.
    case tick
    case control(ControlCommand)
    /// The shell carried out a `.rebuildMainFile` (`refusal` nil) of `batches` batch files, or
    /// could not (`refusal` says why; nothing was replaced).
    case mainFileRebuilt(ControlCommand, batches: Int, refusal: String?)
}

/// A state-changing command, from `mailbox/control/` or the CLI.
public struct ControlCommand: Equatable, Sendable {
    public enum Verb: String, Sendable, CaseIterable { case pause, resume, retry, skip, cancel, drain }
    public var verb: Verb
    public var run: String
    public var phase: String?
    public var batch: Int?
    public var id: String?
    /// For `drain`: re-queue at most this many batches.
    public var max: Int?
    /// For `drain`: re-queue batches held back for failing twice with the same error too.
    public var force: Bool
    /// The message file it came from, as `name:inode:mtime` (logged, so a file left in `new/`
    /// by a crash after it was handled is recognised and not applied twice).
    public var source: String?
    /// For `retry` of a phase (no batch): re-merge the phase's accepted batch files into a new
    /// main file, keeping the old one aside (`retry RUN PHASE --rebuild`).
    public var rebuild: Bool
    /// For `drain`: the drain's id, logged in `drain.started` (the CLI names its report after it).
    public var drainID: String?

    public init(verb: Verb, run: String, phase: String? = nil, batch: Int? = nil, id: String? = nil,
                max: Int? = nil, force: Bool = false, rebuild: Bool = false, drainID: String? = nil) {
        self.drainID = drainID
        self.verb = verb
        self.run = run
        self.phase = phase
        self.batch = batch
        self.id = id
        self.max = max
        self.force = force
        self.rebuild = rebuild
    }
}

extension Input {
    /// The batch an input is about, if any.
    public var batchID: BatchID? {
        switch self {
        case .outputWritten(let id, _, _), .spawned(let id, _, _, _, _), .spawnFailed(let id, _, _, _),
             .agentExited(let id, _, _, _, _, _, _, _), .validated(let id, _, _, _, _), .merged(let id, _, _, _, _),
             .validatorFailed(let id, _, _),
             .mergeConflict(let id, _, _), .outputChanged(let id, _), .batchDone(let id, _),
             .mainFileChanged(let id, _, _):
            return id
        case .tick, .control, .mainFileRebuilt:
            return nil
        }
    }
}
