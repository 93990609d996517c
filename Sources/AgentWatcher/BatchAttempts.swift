import WatcherCore
import WatcherSystem

/// Each attempt of a batch as `show` and the dashboard's `/api/batch` give it: its records, its
/// errors file (or why it cannot be read) and its agent log's last lines. Reads regular files only.
public enum BatchAttempts {
    public struct Entry: Sendable {
        public var attempt: OutputJSON.Attempt
        public var errorsPath: String
        /// Why the errors file could not be read, when it is there but unreadable.
        public var unreadable: String?
    }

    /// How many lines of each agent log `show` (and `/api/batch`) give unless told.
    public static let defaultLogLines = 10

    public static func collect(of b: Batch, records: [EventRecord], layout: Layout, lines: Int) throws -> [Entry] {
        let id = b.id
        let mine = records.filter { $0.event.batchID == id }
        var out: [Entry] = []
        for attempt in 1...max(1, b.attempt) {
            let rs = mine.filter { $0.event.attempt == attempt }
            guard let first = rs.first else { continue }
            let errorsPath = layout.rejected(id.run) + "/\(id.phase)_batch_\(id.index).attempt-\(attempt).errors.json"
            var report: ValidationReport?
            var unreadable: String?
            if FileSystem.exists(errorsPath) {
                do { report = try ValidationReport.parse(try FileSystem.readRegularFile(errorsPath)).get() } catch { unreadable = "\(error)" }
            }
            let log = layout.agentLog(id, attempt: attempt)
            var tail: [String] = []
            if FileSystem.exists(log) {
                let text = String(decoding: try FileSystem.readRegularFile(log), as: UTF8.self)
                tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1)
                    .dropLast(text.hasSuffix("\n") ? 1 : 0).map(String.init)
            }
            out.append(Entry(attempt: OutputJSON.Attempt(attempt: attempt, started: first.ts, records: rs, errors: report,
                                                         agentLog: log, agentLogTail: tail),
                             errorsPath: errorsPath, unreadable: unreadable))
        }
        return out
    }
}
