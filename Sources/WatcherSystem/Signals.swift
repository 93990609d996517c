#if canImport(Glibc)
import Glibc
#endif

/// Process-wide signal dispositions and the calling thread's signal mask.
public enum Signals {
    /// Ignores `signal` in the whole process (for `SIGPIPE`: a write to a closed
    /// pipe then fails with `EPIPE` instead of killing us). ``Spawner`` resets
    /// it to the default in children.
    ///
    /// It cannot fail for a valid signal number other than `SIGKILL` and
    /// `SIGSTOP`; passing one of those (`EINVAL`) is a programming error and traps.
    ///
    /// The corresponding C function is `signal(sig, SIG_IGN)`.
    public static func ignore(_ signal: Int32) {
        let previous = Glibc.signal(signal, SIG_IGN)
        let failed = previous.map { unsafeBitCast($0, to: Int.self) == -1 } ?? false  // SIG_ERR
        precondition(!failed, "signal(\(ExitStatus.signalName(signal)), SIG_IGN): \(Errno.current)")
    }

    /// Blocks `signals` in the calling thread (and the threads it creates later).
    ///
    /// The corresponding C function is `pthread_sigmask(SIG_BLOCK)`.
    public static func block(_ signals: [Int32]) throws {
        var mask = set(signals)
        try zeroOrErrno("pthread_sigmask") { pthread_sigmask(SIG_BLOCK, &mask, nil) }
    }

    /// Unblocks `signals` in the calling thread.
    ///
    /// The corresponding C function is `pthread_sigmask(SIG_UNBLOCK)`.
    public static func unblock(_ signals: [Int32]) throws {
        var mask = set(signals)
        try zeroOrErrno("pthread_sigmask") { pthread_sigmask(SIG_UNBLOCK, &mask, nil) }
    }

    static func set(_ signals: [Int32]) -> sigset_t {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        return mask
    }
}
