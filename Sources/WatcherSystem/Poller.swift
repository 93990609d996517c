#if canImport(Glibc)
import Glibc
#endif

/// Sleeps until one of several descriptors is readable or a timeout passes.
public enum Poller {
    /// Waits until at least one of `fds` is readable, hung up or in error, and
    /// returns those (in the order given). Returns an empty array on timeout and
    /// when a signal interrupted the wait (the caller loops; it recomputes its
    /// timeout anyway). A descriptor that is not open throws ``Errno/badFileDescriptor``.
    ///
    /// - Parameter timeoutNanoseconds: negative waits forever, 0 does not wait; the wait
    ///   ends at that many nanoseconds (the kernel's timer, not whole milliseconds).
    ///
    /// The corresponding C function is `ppoll` (`poll` where glibc lacks it, in whole
    /// milliseconds rounded up).
    public static func wait(_ fds: [Int32], timeoutNanoseconds: Int64) throws -> [Int32] {
        var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        do {
            _ = try valueOrErrno("ppoll", retryingOnInterrupt: false) {
                guard let ppoll = GNU.ppoll else {
                    let ms = timeoutNanoseconds < 0 ? -1 : Int32(clamping: (timeoutNanoseconds + 999_999) / 1_000_000)
                    return poll(&entries, nfds_t(entries.count), ms)
                }
                guard timeoutNanoseconds >= 0 else { return ppoll(&entries, nfds_t(entries.count), nil, nil) }
                var limit = timespec(tv_sec: Int(timeoutNanoseconds / 1_000_000_000), tv_nsec: Int(timeoutNanoseconds % 1_000_000_000))
                return ppoll(&entries, nfds_t(entries.count), &limit, nil)
            }
        } catch Errno.interrupted {
            return []
        }
        if let invalid = entries.first(where: { $0.revents & Int16(POLLNVAL) != 0 }) {
            throw SystemError(operation: "poll", path: "fd \(invalid.fd)", errno: .badFileDescriptor)
        }
        let ready = Int16(POLLIN | POLLHUP | POLLERR)
        return entries.filter { $0.revents & ready != 0 }.map(\.fd)
    }

    /// ``wait(_:timeoutNanoseconds:)`` with a timeout in milliseconds: -1 waits forever, 0 does not wait.
    public static func wait(_ fds: [Int32], timeoutMilliseconds: Int32) throws -> [Int32] {
        try wait(fds, timeoutNanoseconds: timeoutMilliseconds < 0 ? -1 : Int64(timeoutMilliseconds) * 1_000_000)
    }

    /// The `poll` timeout for a deadline on ``Clock/monotonicNanoseconds()``:
    /// -1 for no deadline, 0 if it has passed, else the milliseconds left rounded
    /// up (so the wait never ends just before the deadline).
    public static func timeout(untilMonotonic deadline: UInt64?, now: UInt64 = Clock.monotonicNanoseconds()) -> Int32 {
        guard let deadline else { return -1 }
        guard deadline > now else { return 0 }
        let milliseconds = (deadline - now + 999_999) / 1_000_000
        return Int32(clamping: milliseconds)
    }
}
