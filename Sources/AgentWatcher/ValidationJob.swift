import WatcherCore

/// A batch whose output passed the built-in checks and now goes through the phase's external
/// validator commands, one after another.
struct ValidationJob {
    var id: BatchID
    var attempt: Int
    var path: String
    var checksum: String
    /// Index of the validator running now.
    var index: Int
    var stdoutPath: String
    /// The running validator's lifetime: its timeout, then SIGTERM to its group, grace, SIGKILL.
    var life: ChildLifetime
    var timedOut: Bool { life.stopReason == "timeout" }
}
