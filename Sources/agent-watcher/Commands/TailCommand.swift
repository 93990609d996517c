import AgentWatcher
import Foundation
import Glibc
import WatcherCore
import WatcherSystem

/// `tail [-n N] [-f] [--json] [--run RUN] [--event NAME] [--batch PHASE/K] [--since TIME]`: the
/// event log streamed in large chunks (``LineReader``, never the whole file at once), written to
/// stdout in blocks.
/// Default: the whole log; with -f the last 10 records, then every new one (inotify, no polling).
enum TailCommand {
    static let chunkSize = 1 << 20

    static func main(_ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        let follow = args.flag("follow")
        let json = args.flag("json")
        var filter = EventFilter(run: args.option("run"), event: args.option("event"), since: args.option("since").map(since))
        if let b = args.option("batch") {
            guard let parsed = EventFilter.parseBatch(b) else { throw args.usageError("--batch expects PHASE/K, got '\(b)'") }
            filter.batch = parsed
        }
        let count = args.int("lines") ?? (follow ? 10 : nil)
        if let count, count < 0 { throw args.usageError("-n must be ≥ 0") }
        let out = OutputBuffer()
        var printer = LinePrinter(filter: filter, json: json, out: out)
        if !follow {
            guard FileSystem.exists(layout.eventLog) else {
                Console.error("agent-watcher: no event log at \(layout.eventLog)")
                return 1
            }
        }
        try FileSystem.createDirectory(layout.logs)
        let inotify = follow ? try Inotify() : nil
        if let inotify { _ = try inotify.addWatch(layout.logs, mask: [.modify, .create, .movedTo, .closeWrite]) }
        var offset = 0
        if FileSystem.exists(layout.eventLog) {
            let fd = try FileSystem.openRegular(layout.eventLog) // a FIFO there is never waited on
            let size = Int(try fd.stat().size)
            var start = 0
            if let count, filter.isEmpty { start = try startOfLast(count, fd: fd, size: size) }
            if let count, !filter.isEmpty { printer.keepLast = count }
            offset = try stream(fd, from: start, to: size, into: &printer)
            try fd.close()
            printer.emitKept()
        }
        out.flush()
        guard let inotify else { return 0 }
        printer.keepLast = nil
        while true {
            _ = try Poller.wait([inotify.fileDescriptor], timeoutMilliseconds: -1)
            let events = try inotify.readEvents()
            guard events.contains(where: { $0.name == "events.jsonl" }), FileSystem.exists(layout.eventLog) else { continue }
            let fd = try FileSystem.openRegular(layout.eventLog) // a FIFO there is never waited on
            let size = Int(try fd.stat().size)
            if size < offset { offset = 0 } // the log was cut or replaced
            offset = try stream(fd, from: offset, to: size, into: &printer)
            try fd.close()
            out.flush()
        }
    }

    /// Feeds the complete lines from `start` to `size` to the printer; returns the offset just
    /// past the last of them (a line still being written is read again next time).
    static func stream(_ fd: FileDescriptor, from start: Int, to size: Int, into printer: inout LinePrinter) throws -> Int {
        try LineReader.forEachLine(fd, from: start, to: size) { line, _ in printer.handle(line) }
    }

    /// The offset of the first of the last `n` lines, found by reading backwards in chunks.
    static func startOfLast(_ n: Int, fd: FileDescriptor, size: Int) throws -> Int {
        if n == 0 { return size }
        var end = size
        var newlines = 0
        // The log ends in a newline: the last one closes the last line, it does not start one.
        var skipLast = true
        while end > 0 {
            let start = max(0, end - chunkSize)
            try fd.seek(to: Int64(start))
            let chunk = try fd.read(upTo: end - start)
            for i in stride(from: chunk.count - 1, through: 0, by: -1) where chunk[i] == 0x0A {
                if skipLast && start + i == size - 1 { skipLast = false; continue }
                newlines += 1
                if newlines == n { return start + i + 1 }
            }
            skipLast = false
            end = start
        }
        return 0
    }

    /// `--since`: an ISO time prefix as given, or `30s`, `10m`, `2h`, `1d` ago.
    static func since(_ text: String) -> String {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard let unit = text.last, let factor = units[unit], let n = Double(text.dropLast()) else { return text }
        let (s, _) = Clock.realtime()
        return ISOTime.string(Double(s) - n * factor).replacingOccurrences(of: "Z", with: "")
    }
}

/// Prints the lines the filter passes (raw or formatted); with `keepLast` it keeps only the
/// last N passing lines until `emitKept()`.
struct LinePrinter {
    let filter: EventFilter
    let json: Bool
    let out: OutputBuffer
    var keepLast: Int?
    private var kept: [String] = []
    private var keptStart = 0

    init(filter: EventFilter, json: Bool, out: OutputBuffer) {
        self.filter = filter
        self.json = json
        self.out = out
    }

    mutating func handle(_ line: UnsafeBufferPointer<UInt8>) {
        let text: String
        if json && filter.isEmpty {
            guard keepLast != nil else { out.line(line); return }
            text = String(decoding: line, as: UTF8.self)
        } else {
            let record: EventRecord
            do { record = try EventRecord.decode(line) } catch {
                emit("?? " + String(decoding: line, as: UTF8.self)) // a damaged line is shown as it is
                return
            }
            guard filter.matches(record) else { return }
            text = json ? String(decoding: line, as: UTF8.self) : EventFormatter.line(record)
        }
        emit(text)
    }

    private mutating func emit(_ text: String) {
        guard let keepLast else { out.line(text); return }
        guard keepLast > 0 else { return }
        if kept.count < keepLast { kept.append(text) } else {
            kept[keptStart] = text
            keptStart = (keptStart + 1) % keepLast
        }
    }

    mutating func emitKept() {
        for i in 0..<kept.count { out.line(kept[(keptStart + i) % kept.count]) }
        kept = []
        keptStart = 0
    }
}
