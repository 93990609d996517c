import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import WatcherSystem

// Support for the crash-safety suites (Crash*.swift, Recovery*.swift): a small pipeline with a
// deterministic shell agent, a harness that starts and kills daemons on one root, a log
// follower that waits on inotify (never by sleeping), /proc inspection, and the comparison of
// a run's outputs with an uninterrupted run's.

/// The parent of every crash-safety suite. `.serialized`: they start many processes on few
/// cores, kill them on purpose, and adopt the orphans (see `CrashOrphans`), so they run one
/// at a time.
@Suite(.serialized) enum CrashSafety {}

// MARK: - The pipeline

/// A custom pipeline for crash tests: `phases` object-strategy phases of `batches` batches
/// (phase p+1 reads phase p's merged file), with a shell agent. The default agent prints its
/// batch (`lib.sh`'s `object_batch`) under `outbox/tmp/` and renames it into place, so it is
/// fast, deterministic and never leaves a half-written output.
struct CrashPipeline: Sendable, CustomStringConvertible {
    var run = "crash"
    var phases = 2
    var batches = 4
    var batchSize = 3
    var concurrency = 2
    var maxAttempts = 3
    var timeoutSeconds: Double = 30
    var killGraceSeconds: Double = 0.3
    var agentBody = #"object_batch "$start" "$end" | publish "$out""#
    /// An external validator for every phase (argv, run in the root), if any.
    var validatorArgv: [String]? = nil
    var backoffSeconds = 0.05
    /// `"agentsOnRestart"`: nil (the default, kill) or `adopt`.
    var agentsOnRestart: String? = nil
    /// jsonl main files (appended in place) instead of object ones; the agent prints lines.
    var jsonl = false

    static let publishing = CrashPipeline()
    static let publishingLines = CrashPipeline(agentBody: #"jsonl_batch "$start" "$end" | publish "$out""#, jsonl: true)

    var itemCount: Int { batches * batchSize }
    var phaseIDs: [String] { (1...phases).map(String.init) }
    func mainFile(_ phase: String) -> String { "out/phase\(phase).json" + (jsonl ? "l" : "") }
    var batchFileNames: [String] { phaseIDs.flatMap { p in (1...batches).map { "\(p)_batch_\($0).json" } } }
    var itemIDs: [String] { (1...itemCount).map { "i\($0)" } }

    var description: String {
        "\(run): \(phases)x\(batches)x\(batchSize) c\(concurrency) a\(maxAttempts) t\(timeoutSeconds) g\(killGraceSeconds) b\(backoffSeconds) \(agentsOnRestart ?? "kill") \(agentBody) \(validatorArgv ?? [])\(jsonl ? " jsonl" : "")"
    }

    /// Writes the items, `lib.sh`, `agent.sh` and the spec into the sandbox; returns the spec's path.
    func install(in sandbox: Sandbox) throws -> String {
        let phaseSpecs = phaseIDs.map { id -> [String: Any] in
            if jsonl { return ["id": id, "output": ["file": mainFile(id), "strategy": "jsonl", "idField": "id"]] }
            guard let validatorArgv else { return Fixtures.objectPhase(id, file: mainFile(id)) }
            return Fixtures.objectPhase(id, file: mainFile(id), extra: ["validators": [["argv": validatorArgv, "timeoutSeconds": 900]]])
        }
        var spec: [String: Any] = [
            "version": 1, "run": run, "items": ["file": "items-\(run).json", "key": "items", "idField": "id"],
            "batchSize": batchSize, "concurrency": concurrency, "maxAttempts": maxAttempts,
            "timeoutSeconds": timeoutSeconds, "killGraceSeconds": killGraceSeconds, "settleMilliseconds": 50,
            "backoff": ["initialSeconds": backoffSeconds, "multiplier": 1, "maxSeconds": backoffSeconds],
            "agent": ["argv": Fixtures.agentArgv, "prompt": "file"], "phases": phaseSpecs,
        ]
        if let agentsOnRestart { spec["agentsOnRestart"] = agentsOnRestart }
        return try Fixtures.install(in: sandbox, spec: spec, itemCount: itemCount, agentBody: agentBody)
    }
}

// MARK: - Following the event log

/// Follows `logs/events.jsonl` while the daemon appends to it: each wake-up reads only the new
/// bytes and keeps the complete lines (parsed on demand). Waits sleep in `poll()` on inotify
/// and the daemon's pidfd, with a deadline. When the daemon cuts a torn tail (the file shrinks,
/// or the last line read is not there any more), it reads the file again from the start.
final class CrashLogFollower {
    let path: String
    private let inotify: Inotify
    private var fd: FileDescriptor?
    private var offset: Int64 = 0
    private var partial: [UInt8] = []
    private var lastLine: [UInt8] = []
    private(set) var lines: [String] = []
    private var parsed: [Int: LogRecord] = [:]

    init(_ path: String) throws {
        self.path = path
        inotify = try Inotify()
        try FileSystem.createDirectory(Path.parent(path))
        _ = try inotify.addWatch(Path.parent(path), mask: [.create, .modify, .closeWrite, .movedTo])
        try refresh()
    }

    deinit {
        try? fd?.close()
        try? inotify.close()
    }

    /// Reads what was appended since the last call.
    func refresh() throws {
        while try !inotify.readEvents().isEmpty {}
        if fd == nil {
            guard FileSystem.exists(path) else { return }
            fd = try FileDescriptor.open(path, O_RDONLY)
        }
        guard let fd else { return }
        let size = try fd.stat().size
        let intact = try size >= offset && stillHolds(lastLine + partial, endingAt: offset, in: fd)
        if !intact {
            // The daemon cut a torn tail (and may have appended since): read it all again.
            offset = 0
            partial = []
            lines = []
            parsed = [:]
            lastLine = []
        }
        guard size > offset else { return }
        try fd.seek(to: offset)
        while true {
            let chunk = try fd.read(upTo: 1 << 20)
            if chunk.isEmpty { break }
            offset += Int64(chunk.count)
            partial += chunk
        }
        var start = 0
        while let nl = partial[start...].firstIndex(of: 0x0A) {
            lines.append(String(decoding: partial[start..<nl], as: UTF8.self))
            lastLine = Array(partial[start...nl])
            start = nl + 1
        }
        partial.removeFirst(start)
    }

    /// Whether the file still holds `bytes` (the last complete line read, and what followed it)
    /// right before `end`.
    private func stillHolds(_ bytes: [UInt8], endingAt end: Int64, in fd: FileDescriptor) throws -> Bool {
        let line = bytes
        guard !line.isEmpty else { return true }
        guard end >= Int64(line.count) else { return false }
        try fd.seek(to: end - Int64(line.count))
        var got: [UInt8] = []
        while got.count < line.count {
            let chunk = try fd.read(upTo: line.count - got.count)
            if chunk.isEmpty { break }
            got += chunk
        }
        return got == line
    }

    /// Line `i` (0-based) parsed.
    func record(_ i: Int) throws -> LogRecord {
        if let r = parsed[i] { return r }
        let r = try LogRecord(line: lines[i])
        parsed[i] = r
        return r
    }

    /// Every complete line from `start` on, parsed.
    func records(from start: Int = 0) throws -> [LogRecord] {
        try (start..<lines.count).map(record)
    }

    /// Cheap test on the raw line, for logs of 20,000 records.
    static func isEvent(_ line: String, _ event: String) -> Bool {
        line.contains("\"event\":\"\(event)\"")
    }

    func count(event: String, from start: Int = 0) -> Int {
        lines[min(start, lines.count)...].reduce(0) { $0 + (CrashLogFollower.isEvent($1, event) ? 1 : 0) }
    }

    /// Index of the `watcher.started` line of the daemon with pid `pid`.
    func startIndex(of pid: pid_t) throws -> Int? {
        for i in lines.indices where CrashLogFollower.isEvent(lines[i], "watcher.started") {
            if try record(i).pid == pid { return i }
        }
        return nil
    }

    func tail(_ n: Int = 30) -> String { lines.suffix(n).joined(separator: "\n") }

    /// Waits until `done` holds. Fails at the deadline, or as soon as `daemon` exits without it.
    func wait(_ what: String, daemon: ChildProcess?, within seconds: Double,
              until done: (CrashLogFollower) throws -> Bool) throws {
        let deadline = Deadline.seconds(seconds)
        while true {
            try refresh()
            if try done(self) { return }
            if let daemon, try daemon.hasExited() {
                try refresh()
                if try done(self) { return }
                throw E2EError("agent-watcher exited (\(daemon.status!)) before \(what).\nstderr: \(daemon.stderr)\nlog tail:\n\(tail())")
            }
            let timeout = deadline.pollTimeout
            if timeout == 0 { throw E2EError("timed out after \(seconds) s waiting for \(what).\nlog tail:\n\(tail())") }
            var fds = [inotify.fileDescriptor]
            if let daemon { fds.append(daemon.pidfd.rawValue) }
            _ = try Poller.wait(fds, timeoutMilliseconds: timeout)
        }
    }

    /// Waits for `daemon`'s `watcher.started` line and returns its index.
    @discardableResult
    func waitForStart(of daemon: ChildProcess, within seconds: Double = 20) throws -> Int {
        var index: Int?
        try wait("watcher.started of pid \(daemon.pid)", daemon: daemon, within: seconds) {
            index = try $0.startIndex(of: daemon.pid)
            return index != nil
        }
        return index!
    }
}

// MARK: - Processes

/// What `/proc/<pid>/stat` says about a process.
struct CrashProcInfo: CustomStringConvertible {
    var pid: pid_t
    var command: String
    var state: Character
    var ppid: pid_t
    var pgrp: pid_t

    var isZombie: Bool { state == "Z" || state == "X" }
    var description: String { "\(pid) (\(command)) \(state) ppid \(ppid) pgrp \(pgrp)" }
}

enum CrashProcs {
    static func info(_ pid: pid_t) -> CrashProcInfo? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 3, let state = fields[0].first, let ppid = pid_t(fields[1]), let pgrp = pid_t(fields[2]) else {
            return nil
        }
        return CrashProcInfo(pid: pid, command: String(text[text.index(after: open)..<close]), state: state,
                             ppid: ppid, pgrp: pgrp)
    }

    static func all() -> [CrashProcInfo] {
        ((try? FileSystem.listDirectory("/proc")) ?? []).compactMap { pid_t($0.name).flatMap(info) }
    }

    /// Living (not zombie) processes that carry `AGENT_WATCHER_ROOT=<root>`: agents and their
    /// descendants started by a daemon on `root`.
    static func living(withRoot root: String) -> [CrashProcInfo] {
        let pids = (try? ProcessControl.processes(withEnvironment: "AGENT_WATCHER_ROOT", equalTo: root)) ?? []
        return pids.compactMap(info).filter { !$0.isZombie }
    }

    static func members(ofGroup pgid: pid_t) -> [CrashProcInfo] { all().filter { $0.pgrp == pgid } }

    /// `kill(-pgid, 0)` fails with ESRCH: no process, not even a zombie, is left in the group.
    static func isGroupGone(_ pgid: pid_t) -> Bool {
        kill(-pgid, 0) == -1 && errno == ESRCH
    }

    static func zombieChildren(of pid: pid_t) -> [CrashProcInfo] {
        all().filter { $0.ppid == pid && $0.isZombie }
    }
}

/// Agents outlive a daemon killed with SIGKILL (that is what these tests do). Their new parent
/// would be pid 1, which in a container may reap them late (here: seconds), so a dead agent
/// would stay a zombie and keep its group alive for `kill(-pgid, 0)`. The test process makes
/// itself their reaper (`PR_SET_CHILD_SUBREAPER`) and reaps the zombies it adopts. Only
/// processes it did not start itself are reaped: the daemons are `ChildProcess`es, which reap
/// their own.
enum CrashOrphans {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: Set<pid_t> = []
    nonisolated(unsafe) private static var adopted = false

    static func adopt() throws {
        try lock.withLock {
            if !adopted { try ProcessControl.becomeChildSubreaper() }
            adopted = true
        }
    }

    static func register(_ pid: pid_t) { lock.withLock { _ = started.insert(pid) } }

    /// Reaps every zombie child this process did not start; returns their pids.
    @discardableResult
    static func reap() -> [pid_t] {
        let mine = lock.withLock { started }
        var reaped: [pid_t] = []
        for p in CrashProcs.zombieChildren(of: getpid()) where !mine.contains(p.pid) {
            var status: Int32 = 0
            if waitpid(p.pid, &status, WNOHANG) == p.pid { reaped.append(p.pid) }
        }
        return reaped
    }
}

// MARK: - A test's world

/// One root with one pipeline and the daemons started on it. Checks go through `check` so a
/// failing test keeps its folder for inspection (as do thrown errors, and `AW_E2E_KEEP=1`).
final class CrashHarness {
    let sandbox: Sandbox
    let pipeline: CrashPipeline
    let specPath: String
    private(set) var daemons: [ChildProcess] = []
    private(set) var failed = false
    private var barriers = 0

    init(_ name: String, pipeline: CrashPipeline) throws {
        try CrashOrphans.adopt()
        sandbox = try Sandbox(String(name.filter { $0.isLetter || $0.isNumber || $0 == "-" }.prefix(40)))
        self.pipeline = pipeline
        specPath = try pipeline.install(in: sandbox)
    }

    var root: String { sandbox.root }
    var eventLog: String { sandbox.eventLog }
    var runFolder: String { root + "/mailbox/" + pipeline.run }
    var outbox: String { runFolder + "/outbox" }
    var accepted: String { runFolder + "/accepted" }
    var control: String { root + "/mailbox/control" }

    /// Starts `agent-watcher run` on the root, with `AGENT_WATCHER_FAULT=<fault>` when given.
    func start(fault: String? = nil) throws -> ChildProcess {
        var env = SpawnRequest.currentEnvironment()
        env["AGENT_WATCHER_FAULT"] = fault
        env["AGENT_WATCHER_ROOT"] = nil
        let child = try ChildProcess(argv: [AgentWatcherBinary.path, "run", "--pipeline", specPath, "--root", root],
                                     outputBase: root + "/e2e/life-\(daemons.count + 1)", workingDirectory: root,
                                     environment: env)
        CrashOrphans.register(child.pid)
        daemons.append(child)
        return child
    }

    /// SIGKILL, then waits for the exit.
    func kill9(_ daemon: ChildProcess) throws {
        try daemon.signal(SIGKILL)
        let status = try daemon.finish(within: 30)
        check(status == .signaled(SIGKILL), "daemon \(daemon.pid) ended \(status), not by SIGKILL")
    }

    /// Starts a daemon with no fault, waits until the run is complete in this life (a
    /// `run.completed` after its `watcher.started`), stops it with SIGTERM and expects exit 0.
    /// Returns the stopped daemon and the index of its `watcher.started` line.
    @discardableResult
    func runToCompletion(within seconds: Double = 30) throws -> (daemon: ChildProcess, startLine: Int) {
        let daemon = try start()
        let log = try CrashLogFollower(eventLog)
        let first = try log.waitForStart(of: daemon)
        try log.wait("run.completed", daemon: daemon, within: seconds) { $0.count(event: "run.completed", from: first) > 0 }
        try stop(daemon)
        return (daemon, first)
    }

    /// SIGTERM; expects a clean exit 0 and no agent of this root left alive.
    func stop(_ daemon: ChildProcess) throws {
        let status = try daemon.stop(within: 30)
        check(status == .exited(0), "daemon \(daemon.pid) ended \(status) after SIGTERM; stderr: \(daemon.stderr)")
        CrashOrphans.reap()
    }

    /// Drops a control message (`resume`, harmless) and waits for its answer in the log. The
    /// daemon handles its signals before its file events, so by then it has handled (reaped)
    /// every SIGCHLD that reached it before the drop: a barrier, not a sleep.
    func barrier(_ daemon: ChildProcess, _ log: CrashLogFollower) throws {
        barriers += 1
        let id = "barrier-\(barriers)"
        try sandbox.publish(control + "/new/\(id).json", #"{"command":"resume","run":"\#(pipeline.run)","id":"\#(id)"}"#,
                            staging: control + "/tmp")
        try log.wait("the answer to \(id)", daemon: daemon, within: 20) { f in f.lines.contains { $0.contains("\"id\":\"\(id)\"") } }
    }

    /// Waits until each of `pids` has exited (on pidfds; a pid already gone counts as exited).
    /// Returns the pids still running at the deadline.
    func waitForExit(_ pids: [pid_t], within seconds: Double) throws -> [pid_t] {
        try waitForPIDsToExit(pids, within: seconds)
    }

    func check(_ ok: Bool, _ message: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard !ok else { return }
        failed = true
        Issue.record(Comment(rawValue: message() + "\n(root: \(root))"), sourceLocation: sourceLocation)
    }

    func checkEmpty(_ problems: [String], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        check(problems.isEmpty, "\(what):\n" + problems.prefix(40).joined(separator: "\n"), sourceLocation: sourceLocation)
    }

    func list(_ folder: String) -> [String] {
        ((try? FileSystem.listDirectory(folder)) ?? []).map(\.name).sorted()
    }

    func records() throws -> [LogRecord] { try EventLog.read(eventLog) }

    /// Kills whatever still runs, reaps adopted orphans, removes the root unless something failed.
    func cleanUp(keep: Bool) {
        for d in daemons where d.status == nil {
            _ = try? d.signal(SIGKILL)
            _ = try? d.finish(within: 30)
        }
        for p in CrashProcs.living(withRoot: root) { _ = try? ProcessControl.signal(p.pid, SIGKILL) }
        CrashOrphans.reap()
        sandbox.cleanUp(keep: keep || failed || ProcessInfo.processInfo.environment["AW_E2E_KEEP"] != nil)
    }
}

/// Runs `body` on a fresh harness and cleans up after it.
func withCrashHarness<R>(_ name: String, _ pipeline: CrashPipeline, _ body: (CrashHarness) throws -> R) throws -> R {
    let h = try CrashHarness(name, pipeline: pipeline)
    do {
        let result = try body(h)
        h.cleanUp(keep: false)
        return result
    } catch {
        h.cleanUp(keep: true)
        throw error
    }
}

// MARK: - Outputs

/// What a run leaves that must not depend on crashes: the main files' bytes and the files in
/// `accepted/` (names and bytes).
struct CrashOutputs: Sendable {
    var mainFiles: [String: [UInt8]]
    var accepted: [String: [UInt8]]

    init(_ h: CrashHarness) throws {
        mainFiles = [:]
        for phase in h.pipeline.phaseIDs {
            let path = h.root + "/" + h.pipeline.mainFile(phase)
            mainFiles[h.pipeline.mainFile(phase)] = FileSystem.exists(path) ? try FileSystem.readFile(path) : nil
        }
        accepted = [:]
        for name in h.list(h.accepted) { accepted[name] = try FileSystem.readFile(h.accepted + "/" + name) }
    }

    /// What differs from `reference`, one line per file.
    func differences(from reference: CrashOutputs) -> [String] {
        var out: [String] = []
        func compare(_ what: String, _ mine: [String: [UInt8]], _ theirs: [String: [UInt8]]) {
            for name in Set(mine.keys).union(theirs.keys).sorted() {
                switch (mine[name], theirs[name]) {
                case (nil, _?): out.append("\(what) \(name): missing (the reference has it)")
                case (_?, nil): out.append("\(what) \(name): not in the reference run")
                case (let a?, let b?) where a != b:
                    let at = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
                    out.append("\(what) \(name): \(a.count) bytes vs \(b.count) in the reference, first difference at byte \(at): "
                        + "…\(String(decoding: a[max(0, at - 40)..<min(a.count, at + 40)], as: UTF8.self))…")
                default: break
                }
            }
        }
        compare("main file", mainFiles, reference.mainFiles)
        compare("accepted/", accepted, reference.accepted)
        return out
    }
}

/// Uninterrupted runs of a pipeline, made once per test process and shared.
enum CrashReference {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: CrashOutputs] = [:]

    static func outputs(_ pipeline: CrashPipeline) throws -> CrashOutputs {
        if let done = lock.withLock({ cache[pipeline.description] }) { return done }
        let outputs = try withCrashHarness("reference-\(pipeline.run)", pipeline) { h -> CrashOutputs in
            try h.runToCompletion()
            let outputs = try CrashOutputs(h)
            h.checkEmpty(try crashInvariantProblems(h), "the reference run itself is not right")
            return outputs
        }
        lock.withLock { cache[pipeline.description] = outputs }
        return outputs
    }
}

/// What must hold after any run of a `CrashPipeline` whose agents always succeed, crashed or
/// not: every batch merged exactly once (one `→ merged` record; its file in `accepted/` once,
/// with its `.sha256`, nothing else there, nothing left in the outbox); each main file holds
/// the run's ids once each, in order; every log line has a good checksum and `seq` counts up.
func crashInvariantProblems(_ h: CrashHarness) throws -> [String] {
    var problems: [String] = []
    let p = h.pipeline
    let acceptedNames = h.list(h.accepted)
    let expected = (p.batchFileNames + p.batchFileNames.map { $0 + ".sha256" }).sorted()
    if acceptedNames != expected {
        let extra = Set(acceptedNames).subtracting(expected).sorted()
        let missing = Set(expected).subtracting(acceptedNames).sorted()
        problems.append("accepted/: extra \(extra) (a batch archived twice?), missing \(missing)")
    }
    let leftovers = h.list(h.outbox).filter { $0 != "tmp" }
    if !leftovers.isEmpty { problems.append("outbox/ still holds \(leftovers)") }
    for phase in p.phaseIDs {
        let path = h.root + "/" + p.mainFile(phase)
        guard FileSystem.exists(path) else { problems.append("\(p.mainFile(phase)) is missing"); continue }
        let ids = try containerItems(String(decoding: try FileSystem.readFile(path), as: UTF8.self), key: p.jsonl ? nil : "results",
                                     idField: p.jsonl ? "id" : nil, jsonl: p.jsonl)
            .map(\.id)
        var seen: [String: Int] = [:]
        for id in ids { seen[id, default: 0] += 1 }
        let twice = seen.filter { $0.value > 1 }.keys.sorted()
        if !twice.isEmpty { problems.append("\(p.mainFile(phase)): items present more than once: \(twice)") }
        if ids != p.itemIDs { problems.append("\(p.mainFile(phase)): ids \(ids), expected \(p.itemIDs)") }
    }
    let bytes = try FileSystem.readFile(h.eventLog)
    let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    if bytes.last != 0x0A { problems.append("the log does not end in a newline") }
    var lastSeq = 0
    var merged: [String: Int] = [:]
    for (n, raw) in lines.dropLast().enumerated() {
        let marker = Array(#","crc":""#.utf8)
        let body = Array(raw)
        let cut = body.count - 10 - marker.count
        guard cut > 0, Array(body[cut..<(cut + marker.count)]) == marker,
              String(decoding: body[(cut + marker.count)..<(body.count - 2)], as: UTF8.self) == String(format: "%08x", crc32(body[..<cut]))
        else {
            problems.append("log line \(n + 1): bad or missing crc: \(String(decoding: body, as: UTF8.self))")
            continue
        }
        let r = try LogRecord(line: String(decoding: body, as: UTF8.self))
        if r.seq != lastSeq + 1 { problems.append("log line \(n + 1): seq \(r.seq) after \(lastSeq)") }
        lastSeq = r.seq
        if r.event == "batch.transition", r.to == "merged", let ph = r.phase, let b = r.batch { merged["\(ph)/\(b)", default: 0] += 1 }
    }
    for phase in p.phaseIDs {
        for b in 1...p.batches where merged["\(phase)/\(b)"] != 1 {
            problems.append("batch \(phase)/\(b): \(merged["\(phase)/\(b)"] ?? 0) '→ merged' records, expected 1")
        }
    }
    return problems
}

// MARK: - Misc

/// SplitMix64: a small seeded generator, so a failing random schedule can be replayed.
struct CrashRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A batch file as the default agent writes it (`lib.sh`'s `object_batch START END`).
func crashBatchText(start: Int, end: Int) -> String {
    "{\"results\": {" + (start...end).map { "\n  \"i\($0)\": " + Fixtures.item($0).description }.joined(separator: ",") + "\n}}\n"
}

/// Waits on pidfds until each of `pids` has exited (a pid already gone counts); returns those still running.
func waitForPIDsToExit(_ pids: [pid_t], within seconds: Double) throws -> [pid_t] {
    let deadline = Deadline.seconds(seconds)
    var fds: [pid_t: FileDescriptor] = [:]
    for p in pids { if let fd = try? ProcessControl.openPIDFD(p) { fds[p] = fd } }
    defer { for fd in fds.values { try? fd.close() } }
    while !fds.isEmpty {
        let ready = try Poller.wait(fds.values.map(\.rawValue), timeoutMilliseconds: deadline.pollTimeout)
        for (p, fd) in fds where ready.contains(fd.rawValue) { try? fd.close(); fds[p] = nil }
        if ready.isEmpty && deadline.hasPassed { break }
    }
    return fds.keys.sorted()
}
