#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended: a value, never an error.
public enum ExitStatus: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// It called `exit` with this code.
    case exited(Int32)
    /// A signal with this number killed it.
    case signaled(Int32)

    /// Decodes a `waitpid` status (the `WIFEXITED` / `WEXITSTATUS` / `WTERMSIG` macros).
    public init(waitStatus status: Int32) {
        let signal = status & 0x7f
        if signal == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signaled(signal)
        }
    }

    /// True for `exit 0`.
    public var isSuccess: Bool { self == .exited(0) }

    /// `exit 3` or `killed by SIGKILL`.
    public var description: String {
        switch self {
        case .exited(let code): return "exit \(code)"
        case .signaled(let signal): return "killed by \(ExitStatus.signalName(signal))"
        }
    }

    /// `SIGKILL` for 9, or `signal 99` for a number glibc does not name.
    ///
    /// The corresponding C function is `sigabbrev_np`.
    public static func signalName(_ signal: Int32) -> String {
        if let abbreviation = GNU.sigabbrev_np?(signal) {
            return "SIG" + String(cString: abbreviation)
        }
        return "signal \(signal)"
    }
}
