/// What the daemon knows a main file held after it last wrote it: its size and CRC-32, logged
/// as `main.written` before each atomic replace (write-ahead). A crash between the record and
/// the rename leaves the file as the record before said, so both the last and the one before
/// count as the daemon's own.
public struct MainFileFacts: Equatable, Sendable {
    public var size: Int
    public var crc32: UInt32

    public init(size: Int, crc32: UInt32) {
        self.size = size
        self.crc32 = crc32
    }

    public init(of bytes: [UInt8]) {
        self.init(size: bytes.count, crc32: CRC32.checksum(bytes))
    }

    /// The `main.written` record's details.
    public var details: [Event.Detail] {
        [.init("size", .int(size)), .init("crc32", .string(CRC32.hex(crc32)))]
    }

    /// From a `main.written` record.
    public init?(_ e: Event) {
        guard let size = e.int("size"), let hex = e.string("crc32"), let crc = UInt32(hex, radix: 16) else { return nil }
        self.init(size: size, crc32: crc)
    }

    /// Why the file found (`nil`: there is none) is not one the daemon wrote, or nil when it is.
    /// `known` holds the last two records' facts, newest last; empty: nothing is known (a log of
    /// an older version), and any file is taken as it is.
    public static func problem(path: String, found: [UInt8]?, known: [MainFileFacts]) -> String? {
        guard let last = known.last else { return nil }
        let ways = "Restore \(path) (\(last.size) bytes, CRC-32 \(CRC32.hex(last.crc32)) after the last merge) and `resume`, "
            + "(Re-merging the accepted batch files into a new main file, `retry --rebuild`, is not implemented yet.)"
        guard let found else { return "\(path) is gone, but it held \(last.size) bytes of merged items. " + ways }
        let facts = MainFileFacts(of: found)
        if known.suffix(2).contains(facts) { return nil }
        if facts.size < last.size {
            return "\(path) shrank from \(last.size) to \(facts.size) bytes since the last merge. " + ways
        }
        return "\(path) was changed or replaced since the last merge (\(facts.size) bytes, CRC-32 \(CRC32.hex(facts.crc32))). " + ways
    }
}
