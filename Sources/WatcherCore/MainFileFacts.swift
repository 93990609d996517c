/// What a main file holds, as far as the daemon checks it: its size and CRC-32.
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
}

/// A `main.written` record: logged before each atomic replace of a main file (write-ahead),
/// with what the file held when the merge read it (`base`, nil: no file) and what it holds
/// after (`written`); for a rebuild `base` is `written` (the file it replaces is not the daemon's). A crash between the record and the rename leaves the file at `base`,
/// so both count as the daemon's own; anything else is not.
public struct MainFileRecord: Equatable, Sendable {
    public var base: MainFileFacts?
    public var written: MainFileFacts
    /// A jsonl main file appended in place (no rename): where the new lines go and their CRC-32,
    /// so a start that finds the append cut short cuts the file back to `offset` (``repair(size:tail:)``).
    public var append: Append?

    /// New whole lines written at `offset` (the end of the file as it was, `base.size`).
    public struct Append: Equatable, Sendable {
        public var offset: Int
        public var length: Int
        public var crc32: UInt32

        public init(offset: Int, length: Int, crc32: UInt32) {
            self.offset = offset
            self.length = length
            self.crc32 = crc32
        }

        public init(offset: Int, bytes: [UInt8]) {
            self.init(offset: offset, length: bytes.count, crc32: CRC32.checksum(bytes))
        }
    }

    public init(base: MainFileFacts?, written: MainFileFacts, append: Append? = nil) {
        self.base = base
        self.written = written
        self.append = append
    }

    /// The record's details (after `path`).
    public var details: [Event.Detail] {
        var d: [Event.Detail] = [.init("size", .int(written.size)), .init("crc32", .string(CRC32.hex(written.crc32)))]
        if let base {
            d += [.init("base_size", .int(base.size)), .init("base_crc32", .string(CRC32.hex(base.crc32)))]
        }
        if let append {
            d += [.init("append_offset", .int(append.offset)), .init("append_length", .int(append.length)),
                  .init("append_crc32", .string(CRC32.hex(append.crc32)))]
        }
        return d
    }

    /// What a start does with a main file whose last record is an append, from the file's size
    /// and (when it is as long as the append makes it) the CRC-32 of its bytes from `offset`.
    public enum Repair: Equatable, Sendable {
        /// Nothing to do: the append never began, or it is complete, or this is no append.
        case none
        /// The append was cut short: cut the file back to this size (the file as it was). The
        /// batch is still `merging` in the log, so its merge is done again.
        case truncate(to: Int)
    }

    ///   - tailCRC: the CRC-32 of the file's bytes from `append.offset` to the end (asked only
    ///     when the size is the append's end).
    public func repair(size: Int, tailCRC: () throws -> UInt32) rethrows -> Repair {
        guard let append, size > append.offset else { return .none } // not begun, or not ours to judge
        let end = append.offset + append.length
        if size > end { return .none } // longer than any append of ours: the main.written check says so
        if size == end, try tailCRC() == append.crc32 { return .none }
        return .truncate(to: append.offset)
    }

    /// From a `main.written` record.
    public init?(_ e: Event) {
        func facts(_ size: String, _ crc: String) -> MainFileFacts? {
            guard let s = e.int(size), let hex = e.string(crc), let c = UInt32(hex, radix: 16) else { return nil }
            return MainFileFacts(size: s, crc32: c)
        }
        guard let written = facts("size", "crc32") else { return nil }
        var append: Append?
        if let offset = e.int("append_offset"), let length = e.int("append_length"),
           let hex = e.string("append_crc32"), let crc = UInt32(hex, radix: 16) {
            append = Append(offset: offset, length: length, crc32: crc)
        }
        self.init(base: facts("base_size", "base_crc32"), written: written, append: append)
    }

    /// Why the file found (`nil`: there is none) is not one the daemon wrote, or nil when it is.
    /// `record` nil: nothing is known (a new main file, or a log of an older version), and any
    /// file is taken as it is.
    ///   - rebuild: the command that rebuilds the file (`agent-watcher retry RUN PHASE --rebuild`).
    public static func problem(path: String, found: [UInt8]?, record: MainFileRecord?,
                               rebuild: String = "agent-watcher retry RUN PHASE --rebuild") -> String? {
        problem(path: path, facts: found.map(MainFileFacts.init(of:)), record: record, rebuild: rebuild)
    }

    /// The same, from the facts of the file found (read, or known from the daemon's index of it).
    public static func problem(path: String, facts: MainFileFacts?, record: MainFileRecord?,
                               rebuild: String = "agent-watcher retry RUN PHASE --rebuild") -> String? {
        guard let record else { return nil }
        let last = record.written
        let ways = "Two ways on: restore \(path) (\(last.size) bytes, CRC-32 \(CRC32.hex(last.crc32)) after the last merge) and `resume`; "
            + "or `\(rebuild)` re-merges every accepted batch file into a new main file (the file found is kept aside)."
        guard let facts else {
            return record.base == nil ? nil : "\(path) is gone, but it held \(last.size) bytes of merged items. " + ways
        }
        if facts == last || facts == record.base { return nil }
        if facts.size < last.size {
            return "\(path) shrank from \(last.size) to \(facts.size) bytes since the last merge. " + ways
        }
        return "\(path) was changed or replaced since the last merge (\(facts.size) bytes, CRC-32 \(CRC32.hex(facts.crc32))). " + ways
    }
}
