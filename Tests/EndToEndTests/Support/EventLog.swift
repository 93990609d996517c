import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem
import XCTest

/// One line of `logs/events.jsonl`, parsed with member order kept.
struct LogRecord: CustomStringConvertible {
    let line: String
    let json: JSON

    init(line: String) throws {
        self.line = line
        self.json = try JSON.parse(line)
    }

    subscript(key: String) -> JSON? { json[key] }

    var seq: Int { json["seq"]?.int ?? -1 }
    var ts: String { json["ts"]?.string ?? "" }
    var event: String { json["event"]?.string ?? "" }
    var run: String? { json["run"]?.string }
    var phase: String? { json["phase"]?.string }
    var batch: Int? { json["batch"]?.int }
    var attempt: Int? { json["attempt"]?.int }
    var from: String? { json["from"]?.string }
    var to: String? { json["to"]?.string }
    var reason: String? { json["reason"]?.string }
    var pid: pid_t? { json["pid"]?.int.map { pid_t($0) } }

    /// A transition as `attempt:from>to(reason)`, to compare a batch's whole path at once.
    var step: String { "\(attempt ?? 0):\(from ?? "")>\(to ?? "")" + (reason.map { "(\($0))" } ?? "") }

    /// `ts` as seconds since 1970 (microsecond precision).
    var time: Double { LogRecord.epochSeconds(ts) ?? -1 }

    var description: String { line }

    func isTransition(run: String? = nil, phase: String, batch: Int, from: String? = nil, to: String,
                      reason: String? = nil, attempt: Int? = nil) -> Bool {
        event == "batch.transition" && self.phase == phase && self.batch == batch && self.to == to
            && (run == nil || self.run == run) && (from == nil || self.from == from)
            && (reason == nil || self.reason == reason) && (attempt == nil || self.attempt == attempt)
    }

    func isEvent(_ name: String, run: String? = nil, phase: String? = nil, batch: Int? = nil) -> Bool {
        event == name && (run == nil || self.run == run) && (phase == nil || self.phase == phase)
            && (batch == nil || self.batch == batch)
    }

    /// `2026-11-21T08:00:00.123456Z` -> seconds since 1970.
    static func epochSeconds(_ ts: String) -> Double? {
        let parts = ts.split(whereSeparator: { "-T:.Z".contains($0) }).compactMap { Int($0) }
        guard parts.count == 7 else { return nil }
        var t = tm()
        t.tm_year = Int32(parts[0] - 1900)
        t.tm_mon = Int32(parts[1] - 1)
        t.tm_mday = Int32(parts[2])
        t.tm_hour = Int32(parts[3])
        t.tm_min = Int32(parts[4])
        t.tm_sec = Int32(parts[5])
        return Double(timegm(&t)) + Double(parts[6]) / 1e6
    }
}

enum EventLog {
    /// Every complete line of the log (a last line without its `\n` is still being written).
    /// A complete line that is not JSON is an error.
    static func read(_ path: String) throws -> [LogRecord] {
        guard FileSystem.exists(path) else { return [] }
        let text = String(decoding: try FileSystem.readFile(path), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast() // what follows the last "\n": "" or a line not finished yet
        return try lines.enumerated().map { n, line in
            do { return try LogRecord(line: String(line)) } catch {
                throw E2EError("\(path):\(n + 1): not JSON (\(error)): \(line)")
            }
        }
    }

    static func tail(_ path: String, _ n: Int = 25) -> String {
        let lines = ((try? FileSystem.readFile(path)).map { String(decoding: $0, as: UTF8.self) } ?? "(no log)")
            .split(separator: "\n")
        return lines.suffix(n).joined(separator: "\n")
    }
}

/// Waits, in `poll()` on inotify (never by sleeping), until the event log holds a record
/// `matching` accepts, and returns the first such record. Fails at the deadline, or as soon
/// as `daemon` exits without having written it, with the log's tail in the message.
@discardableResult
func waitForEvent(log: String, deadline: Deadline, daemon: ChildProcess? = nil,
                  _ what: String = "the expected record",
                  matching: (LogRecord) throws -> Bool) throws -> LogRecord {
    let inotify = try Inotify()
    defer { try? inotify.close() }
    let folder = Path.parent(log)
    try FileSystem.createDirectory(folder)
    _ = try inotify.addWatch(folder, mask: [.create, .modify, .closeWrite, .movedTo])
    var fds = [inotify.fileDescriptor]
    if let daemon { fds.append(daemon.pidfd.rawValue) }
    while true {
        _ = try inotify.readEvents()
        let exited = try daemon?.hasExited() ?? false
        if let found = try EventLog.read(log).first(where: matching) { return found }
        if exited {
            throw E2EError("agent-watcher exited (\(daemon!.status!)) before logging \(what).\nstderr: \(daemon!.stderr)\nlog tail:\n\(EventLog.tail(log))")
        }
        let timeout = deadline.pollTimeout
        if timeout == 0 {
            throw E2EError("timed out waiting for \(what).\nlog tail:\n\(EventLog.tail(log))")
        }
        _ = try Poller.wait(fds, timeoutMilliseconds: timeout)
    }
}

/// Waits on inotify until `path` exists (a file an agent script writes).
func waitForFile(_ path: String, deadline: Deadline) throws {
    let inotify = try Inotify()
    defer { try? inotify.close() }
    _ = try inotify.addWatch(Path.parent(path), mask: [.create, .closeWrite, .movedTo])
    while !FileSystem.exists(path) {
        let timeout = deadline.pollTimeout
        if timeout == 0 { throw E2EError("timed out waiting for \(path)") }
        _ = try Poller.wait([inotify.fileDescriptor], timeoutMilliseconds: timeout)
        _ = try inotify.readEvents()
    }
}

/// The last state each batch reached, by "phase/batch".
func finalStates(_ records: [LogRecord], run: String? = nil) -> [String: String] {
    var states: [String: String] = [:]
    for r in records where r.event == "batch.transition" && (run == nil || r.run == run) {
        if let p = r.phase, let b = r.batch, let to = r.to { states["\(p)/\(b)"] = to }
    }
    return states
}
