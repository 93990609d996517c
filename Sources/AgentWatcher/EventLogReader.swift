import Glibc
import WatcherCore
import WatcherSystem

/// Reads `logs/events.jsonl`. A damaged tail (a crash mid-append, zeros after a power loss) is
/// reported as `tornTail` for the daemon to cut off and keep aside; a damaged line followed by
/// good ones is an error naming its line number.
public struct EventLogReader {
    public struct Contents {
        public var records: [EventRecord]
        /// Byte offset just past the last good line.
        public var goodLength: Int
        /// Bytes after `goodLength` that are not whole good records.
        public var tornTail: [UInt8]
    }

    public struct CorruptLine: Error, CustomStringConvertible {
        public var path: String
        public var line: Int
        public var problem: String
        public var description: String {
            "\(path):\(line): damaged record (\(problem)) followed by good ones. The log cannot be replayed past it. "
                + "Inspect the line; if it is garbage, move the log aside, keep lines 1-\(line - 1) and the lines after it "
                + "that you trust, and start again."
        }
    }

    /// Every good record of the log (read in chunks; see `fold` for what is damaged).
    public static func read(_ path: String) throws -> Contents {
        var records: [EventRecord] = []
        let summary = try fold(path) { records.append($0) }
        return Contents(records: records, goodLength: summary.goodLength, tornTail: summary.tornTail)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> Contents {
        var records: [EventRecord] = []
        let summary = try fold(bytes, path: path) { records.append($0) }
        return Contents(records: records, goodLength: summary.goodLength, tornTail: summary.tornTail)
    }

    /// What `fold` saw, without the records themselves.
    public struct Summary {
        public var count = 0
        public var lastSeq: UInt64?
        public var goodLength = 0
        public var tornTail: [UInt8] = []
    }

    /// Hands each good record to `each` as it is read, the log streamed in large chunks
    /// (``LineReader``: never the whole file at once, nor an array of its records). A damaged
    /// line followed by good ones throws `CorruptLine` at the first good one after it; a
    /// damaged tail is returned in the summary.
    public static func fold(_ path: String, _ each: (EventRecord) throws -> Void) throws -> Summary {
        let fd: FileDescriptor
        do { fd = try FileSystem.openRegular(path) } catch let e as SystemError where e.errno == .noSuchFile {
            return Summary()
        }
        defer { _ = try? fd.close() } // read-only descriptor: a failed close loses nothing
        var checker = LineChecker(path: path)
        // Up to the size seen first: what a writer appends meanwhile is not taken for a torn end.
        let size = Int(try fd.stat().size)
        let end = try LineReader.forEachLine(fd, to: size) { line, next in try checker.check(line, next: next, each) }
        if size > end { checker.unterminated() }
        if checker.summary.goodLength < size {
            checker.summary.tornTail = Array(try LineReader.bytes(fd, from: checker.summary.goodLength).prefix(size - checker.summary.goodLength))
        }
        return checker.summary
    }

    public static func fold(_ bytes: [UInt8], path: String, _ each: (EventRecord) throws -> Void) throws -> Summary {
        var checker = LineChecker(path: path)
        try bytes.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                guard let nl = all[start...].firstIndex(of: 0x0A) else {
                    checker.unterminated()
                    break
                }
                try checker.check(UnsafeBufferPointer(rebasing: all[start..<nl]), next: nl + 1, each)
                start = nl + 1
            }
        }
        checker.summary.tornTail = Array(bytes[checker.summary.goodLength...])
        return checker.summary
    }

    /// Checks the log's lines one after the other: what `fold` does with each.
    struct LineChecker {
        let path: String
        var summary = Summary()
        var lineNumber = 0
        var firstBad: (line: Int, problem: String)?

        init(path: String) { self.path = path }

        /// One line without its `\n`; `next` is the offset just past it.
        mutating func check(_ line: UnsafeBufferPointer<UInt8>, next: Int, _ each: (EventRecord) throws -> Void) throws {
            lineNumber += 1
            var problem: String?
            if !EventRecord.checksumMatches(line) {
                problem = "checksum does not match"
            } else {
                do {
                    let r = try EventRecord.decode(line)
                    if let bad = firstBad {
                        throw CorruptLine(path: path, line: bad.line, problem: bad.problem)
                    }
                    try each(r)
                    summary.count += 1
                    summary.lastSeq = r.seq
                    summary.goodLength = next
                } catch let e as EventRecord.DecodingError {
                    problem = e.message
                }
            }
            if let problem, firstBad == nil { firstBad = (lineNumber, problem) }
        }

        /// The last bytes of the log, with no newline after them.
        mutating func unterminated() {
            lineNumber += 1
            if firstBad == nil { firstBad = (lineNumber, "no newline at the end") }
        }
    }
}
