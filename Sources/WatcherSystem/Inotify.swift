#if canImport(Glibc)
import Glibc
#endif

/// An inotify instance: a non-blocking, close-on-exec descriptor that becomes
/// readable when a watched file or directory changes.
///
/// Not synchronised: use it from one thread at a time.
public final class Inotify: @unchecked Sendable {
    private let descriptor: FileDescriptor
    private let buffer: UnsafeMutableRawBufferPointer

    /// The size of the read buffer; enough for hundreds of events per `read`.
    public static let bufferSize = 64 * 1024
    /// The largest event the kernel queues: the header and a name of `NAME_MAX` bytes with its NUL.
    static let largestEvent = MemoryLayout<inotify_event>.size + Int(NAME_MAX) + 1

    /// The corresponding C function is `inotify_init1(IN_NONBLOCK|IN_CLOEXEC)`.
    public init() throws {
        let fd = try valueOrErrno("inotify_init1") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        descriptor = FileDescriptor(owning: fd, path: "inotify")
        buffer = .allocate(byteCount: Inotify.bufferSize, alignment: MemoryLayout<inotify_event>.alignment)
    }

    deinit {
        buffer.deallocate()
    }

    /// The descriptor to poll for readability.
    public var fileDescriptor: Int32 { descriptor.rawValue }

    /// Watches `path` for the events in `mask` and returns the watch descriptor.
    /// Watching the same inode again returns the same descriptor and replaces its mask.
    ///
    /// The corresponding C function is `inotify_add_watch`.
    public func addWatch(_ path: String, mask: InotifyMask) throws -> Int32 {
        try valueOrErrno("inotify_add_watch", path: path) {
            inotify_add_watch(descriptor.rawValue, path, mask.rawValue)
        }
    }

    /// Removes a watch; an ``InotifyMask/ignored`` event for it follows.
    /// Returns false if the kernel had already dropped the watch (its file is
    /// gone), which is not an error for the caller.
    ///
    /// The corresponding C function is `inotify_rm_watch`.
    @discardableResult
    public func removeWatch(_ watch: Int32) -> Bool {
        inotify_rm_watch(descriptor.rawValue, watch) == 0
    }

    /// Reads and decodes every queued event, until the descriptor would block.
    /// Returns an empty array when nothing is queued.
    ///
    /// The corresponding C function is `read`.
    public func readEvents() throws -> [InotifyEvent] {
        var events: [InotifyEvent] = []
        while true {
            let count: Int
            do {
                count = try valueOrErrno("read", path: "inotify") {
                    Glibc.read(descriptor.rawValue, buffer.baseAddress, buffer.count)
                }
            } catch Errno.wouldBlock {
                return events
            }
            if count == 0 { return events }
            events.append(contentsOf: InotifyEvent.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<count])))
            // Room for another whole event was left: the queue was empty. What comes later makes
            // the descriptor readable again, so no second read() just to be told EAGAIN.
            if count <= buffer.count - Inotify.largestEvent { return events }
        }
    }

    /// Closes the descriptor now instead of on `deinit`.
    public func close() throws {
        try descriptor.close()
    }
}
