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
        do { bytes = try FileSystem.readFile(path) } catch let e as SystemError where e.errno == .noSuchFile {
            return Contents(records: [], goodLength: 0, tornTail: [])
        }
        return try parse(bytes, path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> Contents {
        var records: [EventRecord] = []
        var start = 0
        var lineNumber = 0
        var goodLength = 0
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
                    records.append(r)
                    goodLength = nl + 1
                } catch let e as EventRecord.DecodingError {
                    problem = e.message
                }
            }
            if let problem, firstBad == nil { firstBad = (lineNumber, start, problem) }
            start = nl + 1
        }
        return Contents(records: records, goodLength: goodLength, tornTail: Array(bytes[goodLength...]))
    }
}
