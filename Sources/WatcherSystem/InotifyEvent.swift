/// One `struct inotify_event`, decoded.
public struct InotifyEvent: Equatable, Sendable {
    /// The watch descriptor the event is about (-1 for ``InotifyMask/queueOverflow``).
    public let watch: Int32
    /// What happened.
    public let mask: InotifyMask
    /// Pairs an ``InotifyMask/movedFrom`` with its ``InotifyMask/movedTo``.
    public let cookie: UInt32
    /// The name inside the watched directory, or "" when the event is about the
    /// watched file or directory itself. Bytes that are not UTF-8 are replaced.
    public let name: String
    /// The name's bytes as the kernel gave them (``name`` decodes bytes that are not UTF-8 as U+FFFD).
    public let rawName: [UInt8]

    public init(watch: Int32, mask: InotifyMask, cookie: UInt32 = 0, name: String = "", rawName: [UInt8]? = nil) {
        self.watch = watch
        self.mask = mask
        self.cookie = cookie
        self.name = rawName.map { String(decoding: $0, as: UTF8.self) } ?? name
        self.rawName = rawName ?? Array(name.utf8)
    }

    /// `sizeof(struct inotify_event)` without the name: wd, mask, cookie, len.
    public static let headerSize = 16

    /// Decodes the events in what one `read` on an inotify descriptor returned:
    /// each a 16-byte header (`int wd; uint32_t mask, cookie, len`) followed by
    /// `len` bytes of NUL-padded name. A truncated trailing event is ignored.
    /// Pure: it touches nothing but `buffer`, which need not be aligned.
    public static func parse(_ buffer: UnsafeRawBufferPointer) -> [InotifyEvent] {
        var events: [InotifyEvent] = []
        var offset = 0
        while buffer.count - offset >= headerSize {
            let watch = buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let cookie = buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let length = Int(buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameStart = offset + headerSize
            guard length <= buffer.count - nameStart else { break }
            let nameBytes = buffer[nameStart..<(nameStart + length)].prefix(while: { $0 != 0 })
            events.append(InotifyEvent(
                watch: watch,
                mask: InotifyMask(rawValue: mask),
                cookie: cookie,
                rawName: Array(nameBytes)
            ))
            offset = nameStart + length
        }
        return events
    }

    /// Decodes a byte array; see ``parse(_:)-(UnsafeRawBufferPointer)``.
    public static func parse(_ bytes: [UInt8]) -> [InotifyEvent] {
        bytes.withUnsafeBytes { parse($0) }
    }
}
