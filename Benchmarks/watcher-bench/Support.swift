import AgentWatcher
import DemoCourse
import Glibc
import WatcherCore
import WatcherSystem

// Clocks, statistics, files and child processes: the harness's small tools.

enum Now {
    /// CLOCK_REALTIME in microseconds: the clock both ends of every latency are read on.
    static func us() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Int64(t.tv_sec) * 1_000_000 + Int64(t.tv_nsec / 1000)
    }

    /// CLOCK_MONOTONIC in seconds, for durations measured inside the harness.
    static func mono() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

func sleepSeconds(_ seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// The event log's `ts` in microseconds since the epoch.
func isoMicros(_ iso: String) -> Int64? {
    guard let t = Clock.parseISO8601(iso) else { return nil }
    return Int64(t.seconds) * 1_000_000 + Int64(t.microseconds)
}

/// Waits until `condition` holds, checking every `interval` seconds; false on timeout.
@discardableResult
func waitUntil(timeout: Double, interval: Double = 0.005, _ condition: () -> Bool) -> Bool {
    let end = Now.mono() + timeout
    while true {
        if condition() { return true }
        if Now.mono() >= end { return false }
        sleepSeconds(interval)
    }
}

// MARK: - Statistics

struct Stats {
    var n: Int
    var p50: Double
    var p90: Double
    var p99: Double
    var mean: Double
    var min: Double
    var max: Double

    /// Nearest-rank percentiles of `values` (nil when empty).
    init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        func rank(_ p: Double) -> Double { s[Swift.min(s.count - 1, Swift.max(0, Int((p * Double(s.count)).rounded(.up)) - 1))] }
        n = s.count
        p50 = rank(0.50)
        p90 = rank(0.90)
        p99 = rank(0.99)
        mean = s.reduce(0, +) / Double(s.count)
        min = s[0]
        max = s[s.count - 1]
    }
}

func median(_ values: [Double]) -> Double? { Stats(values)?.p50 }

// MARK: - Formatting

/// Microseconds as "85 µs", "1.24 ms", "2.31 s".
func fmtUs(_ us: Double?) -> String {
    guard let us, us.isFinite else { return "–" }
    let a = abs(us)
    if a < 1000 { return "\(Int(us.rounded())) µs" }
    if a < 10_000 { return fmt(us / 1000, 2) + " ms" }
    if a < 1_000_000 { return fmt(us / 1000, 1) + " ms" }
    return fmt(us / 1e6, 2) + " s"
}

/// Seconds as a human duration.
func fmtS(_ s: Double?) -> String { s.map { fmtUs($0 * 1e6) } ?? "–" }

func fmt(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "–" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (abs(x) * scale).rounded() / scale
    var s = String(Int(r))
    if digits > 0 {
        var frac = Int(((r - Double(Int(r))) * scale).rounded())
        if frac >= Int(scale) { frac = Int(scale) - 1 }
        var f = String(frac)
        while f.count < digits { f = "0" + f }
        s += "." + f
    }
    return x < 0 && r != 0 ? "-" + s : s
}

/// A percentage or other figure with its sign, one decimal: "+2.9", "-0.4".
func fmtSigned(_ x: Double) -> String { (x >= 0 ? "+" : "") + fmt(x, 1) }

func fmtRatio(_ x: Double?) -> String {
    guard let x, x.isFinite else { return "–" }
    return x >= 100 ? "\(Int(x.rounded()))×" : fmt(x, x >= 10 ? 1 : 2) + "×"
}

func fmtBytes(_ b: Double) -> String {
    if b >= Double(1 << 30) { return fmt(b / Double(1 << 30), 2) + " GiB" }
    if b >= Double(1 << 20) { return fmt(b / Double(1 << 20), 1) + " MiB" }
    if b >= Double(1 << 10) { return fmt(b / Double(1 << 10), 1) + " KiB" }
    return "\(Int(b)) B"
}

func fmtCount(_ x: Double) -> String {
    x >= 100 ? String(Int(x.rounded())) : fmt(x, 1)
}

// MARK: - Files

enum Files {
    static func write(_ path: String, _ bytes: [UInt8]) throws {
        let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        try fd.writeAll(bytes)
        try fd.close()
    }

    static func write(_ path: String, _ text: String) throws { try write(path, Array(text.utf8)) }

    static func read(_ path: String) -> [UInt8]? { try? FileSystem.readFile(path) }

    static func text(_ path: String) -> String? { read(path).map { String(decoding: $0, as: UTF8.self) } }

    static func mkdir(_ path: String) throws { try FileSystem.createDirectory(path) }

    static func remove(_ path: String) {
        if FileSystem.exists(path) { try? FileSystem.removeTree(path) }
    }

    static func size(_ path: String) -> Int64 { (try? FileSystem.stat(path).size) ?? 0 }
}

/// A JSON string literal.
func jstr(_ s: String) -> String {
    var out: [UInt8] = []
    JSONValue.writeString(s, into: &out)
    return String(decoding: out, as: UTF8.self)
}

// MARK: - Child processes

/// A child process started with `posix_spawn` (own process group), stopped by group.
final class Proc {
    /// Children that needed SIGKILL because SIGTERM did not end them in time.
    nonisolated(unsafe) static var slowStops: [String: Int] = [:]
    let pid: pid_t
    let name: String
    private(set) var status: ExitStatus?

    init(_ name: String, _ argv: [String], output: String, error: String? = nil, cwd: String? = nil,
         environment: [String: String]? = nil, stdin: String? = nil) throws {
        self.name = name
        pid = try Spawner.spawn(SpawnRequest(argv: argv, environment: environment ?? SpawnRequest.currentEnvironment(),
                                             workingDirectory: cwd, stdinPath: stdin, outputPath: output, errorPath: error))
        registerGroup(pid)
    }

    /// Non-blocking: the exit status once the child has ended.
    @discardableResult
    func poll() -> ExitStatus? {
        if status == nil, let s = try? ProcessControl.reap(pid) {
            status = s
            unregisterGroup(pid)
        }
        return status
    }

    var running: Bool { poll() == nil }

    /// SIGTERM to the group, `grace` seconds, then SIGKILL; always reaps.
    @discardableResult
    func stop(grace: Double = 5) -> ExitStatus? {
        if poll() != nil { return status }
        _ = try? ProcessControl.signalGroup(pid, SIGTERM)
        if !waitUntil(timeout: grace, interval: 0.01, { poll() != nil }) {
            Proc.slowStops[name, default: 0] += 1
            _ = try? ProcessControl.signalGroup(pid, SIGKILL)
            status = try? ProcessControl.waitBlocking(pid)
        }
        unregisterGroup(pid)
        _ = try? ProcessControl.signalGroup(pid, SIGKILL) // stragglers of the group (a peer's own children)
        return status
    }

    /// Waits for the child to end on its own.
    func wait(timeout: Double) -> ExitStatus? {
        waitUntil(timeout: timeout, interval: 0.01) { poll() != nil }
        return status
    }

    /// Figures from /proc/<pid>: VmRSS and VmHWM of the process (kB), and voluntary /
    /// involuntary context switches summed over all its threads.
    func procStatus() -> ProcStatus? { ProcStatus.read(pid) }

    /// CPU time (user + system) the process has used, in seconds (/proc/<pid>/stat, clock ticks).
    func cpuSeconds() -> Double? {
        guard let stat = Files.text("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let f = stat[stat.index(after: close)...].split(separator: " ")
        guard f.count > 13, let u = Double(f[11]), let s = Double(f[12]) else { return nil }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

struct ProcStatus {
    var rssKB = 0
    var hwmKB = 0
    var voluntary = 0
    var involuntary = 0
    var threads = 0

    static func read(_ pid: pid_t) -> ProcStatus? {
        guard let main = Files.text("/proc/\(pid)/status") else { return nil }
        var s = ProcStatus()
        for line in main.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { s.rssKB = number(line) }
            if line.hasPrefix("VmHWM:") { s.hwmKB = number(line) }
        }
        let tasks = (try? FileSystem.listDirectory("/proc/\(pid)/task").map(\.name)) ?? ["\(pid)"]
        for task in tasks {
            guard let text = Files.text("/proc/\(pid)/task/\(task)/status") else { continue }
            s.threads += 1
            for line in text.split(separator: "\n") {
                if line.hasPrefix("voluntary_ctxt_switches:") { s.voluntary += number(line) }
                if line.hasPrefix("nonvoluntary_ctxt_switches:") { s.involuntary += number(line) }
            }
        }
        return s
    }

    private static func number(_ line: Substring) -> Int {
        Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
    }
}

/// Runs a command to completion and returns its output (stdout and stderr).
func capture(_ argv: [String], timeout: Double = 600, cwd: String? = nil) -> (status: ExitStatus?, output: String) {
    let out = "/tmp/watcher-bench-capture-\(getpid())-\(Int(Now.mono() * 1e6)).out"
    defer { try? FileSystem.unlink(out) }
    guard let p = try? Proc(argv.first ?? "?", argv, output: out, cwd: cwd) else { return (nil, "cannot start \(argv.first ?? "?")") }
    let status = p.wait(timeout: timeout) ?? p.stop()
    return (status, Files.text(out) ?? "")
}

// MARK: - The event log, read as it grows

/// Reads `logs/events.jsonl` incrementally: only complete new lines each time.
final class EventTail {
    let path: String
    private(set) var records: [EventRecord] = []
    private var offset: Int64
    private var partial: [UInt8] = []

    init(path: String, from offset: Int64 = 0) {
        self.path = path
        self.offset = offset
    }

    /// New records since the last call.
    @discardableResult
    func poll() -> ArraySlice<EventRecord> {
        let before = records.count
        guard let fd = try? FileDescriptor.open(path, O_RDONLY) else { return [] }
        defer { try? fd.close() }
        try? fd.seek(to: offset)
        while let chunk = try? fd.read(upTo: 1 << 20), !chunk.isEmpty {
            offset += Int64(chunk.count)
            partial += chunk
        }
        var start = 0
        while let nl = partial[start...].firstIndex(of: 0x0A) {
            if let r = try? EventRecord.decode(partial[start..<nl]) { records.append(r) }
            start = nl + 1
        }
        partial.removeFirst(start)
        return records[before...]
    }

    /// Waits until a record satisfying `predicate` has been logged.
    func waitFor(timeout: Double, _ predicate: (EventRecord) -> Bool) -> EventRecord? {
        if let r = records.first(where: predicate) { return r }
        var found: EventRecord?
        waitUntil(timeout: timeout, interval: 0.002) {
            found = poll().first(where: predicate)
            return found != nil
        }
        return found
    }
}

extension EventRecord {
    var micros: Int64 { isoMicros(ts) ?? 0 }
    var isTransition: Bool { event.event == "batch.transition" }
    func transition(to: String) -> Bool { event.event == "batch.transition" && event.to == to }
}

/// SplitMix64 with helpers (the demo's generator, so sequences are reproducible).
struct Rng {
    var g: SplitMix64
    init(_ seed: UInt64) { g = SplitMix64(seed: seed) }
    mutating func double() -> Double { g.nextDouble() }
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * g.nextDouble() }
    mutating func bool() -> Bool { g.next() & 1 == 1 }
    mutating func shuffled<T>(_ a: [T]) -> [T] {
        var a = a
        if a.count > 1 {
            for i in stride(from: a.count - 1, to: 0, by: -1) {
                let j = Int(g.next() % UInt64(i + 1))
                a.swapAt(i, j)
            }
        }
        return a
    }
}
