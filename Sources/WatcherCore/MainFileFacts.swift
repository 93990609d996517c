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

    public init(base: MainFileFacts?, written: MainFileFacts) {
        self.base = base
        self.written = written
    }

    /// The record's details (after `path`).
    public var details: [Event.Detail] {
        var d: [Event.Detail] = [.init("size", .int(written.size)), .init("crc32", .string(CRC32.hex(written.crc32)))]
        if let base {
            d += [.init("base_size", .int(base.size)), .init("base_crc32", .string(CRC32.hex(base.crc32)))]
        }
        return d
    }

    /// From a `main.written` record.
    public init?(_ e: Event) {
        func facts(_ size: String, _ crc: String) -> MainFileFacts? {
            guard let s = e.int(size), let hex = e.string(crc), let c = UInt32(hex, radix: 16) else { return nil }
            return MainFileFacts(size: s, crc32: c)
        }
        guard let written = facts("size", "crc32") else { return nil }
        self.init(base: facts("base_size", "base_crc32"), written: written)
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
