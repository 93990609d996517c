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
    var deadline: Instant
    var timedOut = false
}
