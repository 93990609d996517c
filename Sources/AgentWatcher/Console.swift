import Glibc
import WatcherCore

/// Writes to standard error and standard output without buffering surprises.
public enum Console {
    /// Writes `message` and a newline; control characters in it (a file name's escape sequence,
    /// say) are escaped, newlines and tabs kept: nothing printed can drive the terminal.
    public static func error(_ message: String) {
        write(DerivedName.terminalSafe(message) + "\n", to: 2)
    }

    public static func out(_ message: String) {
        write(DerivedName.terminalSafe(message) + "\n", to: 1)
    }

    public static func write(_ s: String, to fd: Int32) {
        var bytes = Array(s.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
        bytes.removeAll()
    }

    public static var isTerminal: Bool { isatty(1) == 1 }
}
