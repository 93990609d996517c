/// What the core asks to be written to the event log: a record without `seq` and `ts`,
/// which the log writer adds. Keys are written in a fixed order; see `EventRecord`.
public struct Event: Equatable, Sendable {
    public var run: String?
    public var phase: String?
    public var batch: Int?
    public var attempt: Int?
    public var event: String
    public var from: String?
    public var to: String?
    public var reason: String?
    public var details: [Detail]

    public struct Detail: Equatable, Sendable {
        public var key: String
        public var value: Value
        public init(_ key: String, _ value: Value) { self.key = key; self.value = value }
    }

    public enum Value: Equatable, Sendable {
        case int(Int), string(String), bool(Bool), double(Double), strings([String])
    }

    public init(event: String, run: String? = nil, phase: String? = nil, batch: Int? = nil, attempt: Int? = nil,
                from: String? = nil, to: String? = nil, reason: String? = nil, details: [Detail] = []) {
        self.run = run
        self.phase = phase
        self.batch = batch
        self.attempt = attempt
        self.event = event
        self.from = from
        self.to = to
        self.reason = reason
        self.details = details
    }

    public var batchID: BatchID? {
        guard let run, let phase, let batch else { return nil }
        return BatchID(run: run, phase: phase, index: batch)
    }

    public subscript(key: String) -> Value? { details.first { $0.key == key }?.value }
    public func int(_ key: String) -> Int? { if case .int(let v)? = self[key] { return v }; return nil }
    public func string(_ key: String) -> String? { if case .string(let v)? = self[key] { return v }; return nil }
    public func strings(_ key: String) -> [String]? { if case .strings(let v)? = self[key] { return v }; return nil }
    public func bool(_ key: String) -> Bool? { if case .bool(let v)? = self[key] { return v }; return nil }
    /// The failure class of a failing transition (`class`), or the one its reason implies in older logs.
    public var failureClass: FailureClass? {
        guard event == EventName.transition, let to, to == BatchState.retryWait.rawValue || to == BatchState.failed.rawValue
            || (to == BatchState.pending.rawValue && reason == TransitionReason.stopped.rawValue) else { return nil }
        if let c = string("class") { return FailureClass(rawValue: c) }
        return reason.map { FailureClass(reason: TransitionReason(rawValue: $0)) }
    }
}

/// Event names. The schema is versioned (see `EventRecord.schemaVersion`) and documented in the README.
public enum EventName {
    public static let transition = "batch.transition"
    public static let agentSignalled = "agent.signalled"
    public static let agentExited = "agent.exited"
    public static let agentAdopted = "agent.adopted"
    public static let watcherStarted = "watcher.started"
    /// Recovery and the first scan are done and every folder is watched: the daemon is up.
    public static let watcherReady = "watcher.ready"
    /// A main file is about to be replaced with these `size` and `crc32` (written ahead).
    public static let mainWritten = "main.written"
    /// `retry --rebuild`: a main file is about to be rebuilt from the accepted batch files, the
    /// old one kept aside (`kept`).
    public static let mainRebuilt = "main.rebuilt"
    /// A jsonl main file found at start with an append of the last `main.written` cut short: cut
    /// back to the logged offset (`to`) before anything else touches it.
    public static let mainRepaired = "main.repaired"
    /// A folder of the mailbox cannot be watched (a kernel limit, a path too long, too deep).
    public static let watchFailed = "watch.failed"
    public static let watcherRecovered = "watcher.recovered"
    public static let watcherStopping = "watcher.stopping"
    public static let watcherStopped = "watcher.stopped"
    public static let watchOverflow = "watch.overflow"
    public static let watchRescan = "watch.rescan"
    public static let fileRejected = "file.rejected"
    /// A folder the watcher uses is a symbolic link: never followed, nothing in it touched.
    public static let folderRefused = "folder.refused"
    public static let fileArchived = "file.archived"
    /// A Slurm job of this root that no agent of the daemon holds (a previous life's) was cancelled.
    public static let jobCancelled = "job.cancelled"
    public static let runStarted = "run.started"
    public static let runCompleted = "run.completed"
    public static let controlApplied = "control.applied"
    public static let controlRejected = "control.rejected"
    public static let drainStarted = "drain.started"
    public static let drainRequeued = "drain.requeued"
    public static let drainCompleted = "drain.completed"
    /// The watcher paused a run by itself (`reason`: a `PauseReason`), or the operator resumed it.
    public static let runPaused = "run.paused"
    /// A transient failure of the agent CLI's service: no agent of the run starts for `delay_ms`.
    public static let runBackoff = "run.backoff"
    /// Items appended to the items file (or phases appended): new batches, same old ones.
    public static let runExtended = "run.extended"
    /// Settings of a run's spec changed (keys with old and new values), at start or on SIGHUP.
    public static let specChanged = "spec.changed"
    public static let specReloaded = "spec.reloaded"
    public static let specRejected = "spec.rejected"
    public static let watcherFailed = "watcher.failed"
}
