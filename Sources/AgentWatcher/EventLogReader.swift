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

    public static func read(_ path: String) throws -> Contents {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readRegularFile(path) } catch let e as SystemError where e.errno == .noSuchFile {
            return Contents(records: [], goodLength: 0, tornTail: [])
        }
        return try parse(bytes, path: path)
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

    /// Hands each good record to `each` as it is read (a long log is never held as an array
    /// of records). A damaged line followed by good ones throws `CorruptLine` at the first
    /// good one after it; a damaged tail is returned in the summary.
    public static func fold(_ path: String, _ each: (EventRecord) throws -> Void) throws -> Summary {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readRegularFile(path) } catch let e as SystemError where e.errno == .noSuchFile {
            return Summary()
        }
        return try fold(bytes, path: path, each)
    }

    public static func fold(_ bytes: [UInt8], path: String, _ each: (EventRecord) throws -> Void) throws -> Summary {
        var summary = Summary()
        var start = 0
        var lineNumber = 0
        var firstBad: (line: Int, offset: Int, problem: String)?
        while start < bytes.count {
            lineNumber += 1
            guard let nl = bytes[start...].firstIndex(of: 0x0A) else {
                if firstBad == nil { firstBad = (lineNumber, start, "no newline at the end") }
                break
            }
            let line = bytes[start..<nl]
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
                    summary.goodLength = nl + 1
                } catch let e as EventRecord.DecodingError {
                    problem = e.message
                }
            }
            if let problem, firstBad == nil { firstBad = (lineNumber, start, problem) }
            start = nl + 1
        }
        summary.tornTail = Array(bytes[summary.goodLength...])
        return summary
    }
}
