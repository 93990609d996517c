#if canImport(Glibc)
import Glibc
#endif

/// Receives signals as readable data on a descriptor instead of in a handler.
///
/// A signal is only queued for the descriptor if no thread would otherwise
/// handle it, so the signals must be blocked in *every* thread: create the
/// `SignalFD` on the main thread before any other thread starts (threads inherit
/// the mask of the thread that creates them). Children started by ``Spawner``
/// get an empty mask, so they are unaffected.
///
/// Not synchronised: use it from one thread at a time.
public final class SignalFD: @unchecked Sendable {
    private let descriptor: FileDescriptor

    /// The signals this descriptor receives.
    public let signals: [Int32]

    /// Blocks `signals` in the calling thread and opens a descriptor for them.
    ///
    /// The corresponding C functions are `pthread_sigmask(SIG_BLOCK)` and
    /// `signalfd(-1, mask, SFD_NONBLOCK|SFD_CLOEXEC)`.
    public init(signals: [Int32]) throws {
        guard let signalfd = GNU.signalfd else {
            throw SystemError(operation: "signalfd", errno: .notImplemented)
        }
        try Signals.block(signals)
        var mask = Signals.set(signals)
        let fd = try valueOrErrno("signalfd") { signalfd(-1, &mask, GNU.SFD_NONBLOCK | GNU.SFD_CLOEXEC) }
        self.descriptor = FileDescriptor(owning: fd, path: "signalfd")
        self.signals = signals
    }

    /// The descriptor to poll for readability.
    public var fileDescriptor: Int32 { descriptor.rawValue }

    /// The numbers of the signals that arrived since the last call, in order,
    /// reading until the descriptor would block. Empty when none arrived.
    ///
    /// The corresponding C function is `read` (of `struct signalfd_siginfo`s).
    public func read() throws -> [Int32] {
        let recordSize = GNU.signalfdSiginfoSize
        var numbers: [Int32] = []
        while true {
            let bytes: [UInt8]
            do {
                bytes = try descriptor.read(upTo: recordSize * 16)
            } catch Errno.wouldBlock {
                return numbers
            }
            if bytes.isEmpty { return numbers }
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset + recordSize <= raw.count {
                    numbers.append(Int32(bitPattern: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                    offset += recordSize
                }
            }
        }
    }

    /// Closes the descriptor now instead of on `deinit`. The signals stay blocked.
    public func close() throws {
        try descriptor.close()
    }
}
