import Glibc
import WatcherCore
import WatcherSystem

/// A pipeline spec for the daemon under test.
struct SpecDef {
    struct Phase {
        var id: String
        var strategy: String
        var key: String
        var idField: String?
        var file: String
        var template: String?
        var expectIds: String?
        var rules: String?
        var input: String?
    }

    var run = "bench"
    var itemsFile = "items.json"
    var itemsKey = "items"
    var itemsIdField = "id"
    var batchSize = 1
    var concurrency = 1
    var maxAttempts = 1
    var timeoutSeconds = 100_000.0
    var killGraceSeconds = 0.5
    var settleMilliseconds = 200
    var agent: [String] = ["sleep", "100000"]
    /// The spec's `order` (`chain`, `phase-first`); nil: left out (the default).
    var order: String?
    var phases: [Phase] = []

    func json() -> String {
        var s = "{\n  \"version\": 1,\n  \"run\": \(jstr(run)),\n"
        s += "  \"items\": {\"file\": \(jstr(itemsFile)), \"key\": \(jstr(itemsKey)), \"idField\": \(jstr(itemsIdField))},\n"
        s += "  \"batchSize\": \(batchSize), \"concurrency\": \(concurrency), \"maxAttempts\": \(maxAttempts),\n"
        s += "  \"timeoutSeconds\": \(timeoutSeconds), \"killGraceSeconds\": \(killGraceSeconds), \"settleMilliseconds\": \(settleMilliseconds),\n"
        s += "  \"backoff\": {\"initialSeconds\": 0.05, \"multiplier\": 2, \"maxSeconds\": 1},\n"
        if let order { s += "  \"order\": \(jstr(order)),\n" }
        s += "  \"agent\": {\"argv\": [\(agent.map(jstr).joined(separator: ", "))], \"prompt\": \"file\"},\n"
        s += "  \"phases\": [\n"
        s += phases.map { p in
            var o = "    {\"id\": \(jstr(p.id))"
            if let i = p.input { o += ", \"input\": \(jstr(i))" }
            o += ", \"output\": {\"file\": \(jstr(p.file)), \"strategy\": \(jstr(p.strategy)), \"key\": \(jstr(p.key))"
            if let f = p.idField { o += ", \"idField\": \(jstr(f))" }
            if let t = p.template { o += ", \"template\": \(t)" }
            o += "}"
            if let e = p.expectIds { o += ", \"expectIds\": \(jstr(e))" }
            if let r = p.rules { o += ", \"rules\": \(jstr(r))" }
            return o + "}"
        }.joined(separator: ",\n")
        s += "\n  ]\n}\n"
        return s
    }
}

/// The agent-watcher binary running one pipeline in a root folder, with its event log tailed.
final class DaemonRun {
    let root: String
    let proc: Proc
    let tail: EventTail
    let startedAt: Int64

    init(_ bench: Bench, root: String, spec: String, logOffset: Int64 = 0) throws {
        self.root = root
        try Files.mkdir(root + "/logs")
        startedAt = Now.us()
        // BENCH_DAEMON_WRAP="perf record -g -o /tmp/p.data --" runs the daemon under a profiler.
        let wrap = (SpawnRequest.currentEnvironment()["BENCH_DAEMON_WRAP"] ?? "").split(separator: " ").map(String.init)
        proc = try Proc("agent-watcher (\(root.split(separator: "/").last ?? ""))", wrap + [bench.watcherBinary, "run", "--pipeline", spec, "--root", root],
                        output: root + "/daemon.out")
        tail = EventTail(path: root + "/logs/events.jsonl", from: logOffset)
    }

    var layoutOutbox: String { root + "/mailbox/bench/outbox" }

    /// Waits for a record; nil (and a message) if the daemon died or the time ran out.
    func waitFor(_ what: String, timeout: Double, _ predicate: (EventRecord) -> Bool) -> EventRecord? {
        if let r = tail.records.first(where: predicate) { return r }
        var found: EventRecord?
        waitUntil(timeout: timeout, interval: 0.002) {
            found = tail.poll().first(where: predicate)
            return found != nil || !proc.running
        }
        if found == nil {
            let why = proc.running ? "timed out after \(timeout) s" : "the daemon exited (\(proc.status.map { "\($0)" } ?? "?"))"
            Out.err("watcher-bench: waiting for \(what) in \(root): \(why); daemon output: "
                + String((Files.text(root + "/daemon.out") ?? "").suffix(400)))
        }
        return found
    }

    /// SIGTERM, 3 s, then SIGKILL; then every process still carrying this root's agent marker
    /// (`AGENT_WATCHER_ROOT=<root>`, set by the daemon on its agents) is killed by pid and group.
    /// What is measured is over by then: a slow stop only costs the harness time.
    func stop() {
        proc.stop(grace: 3)
        let pids = (try? ProcessControl.processes(withEnvironment: "AGENT_WATCHER_ROOT", equalTo: root)) ?? []
        for pid in pids {
            _ = try? ProcessControl.signalGroup(pid, SIGKILL)
            _ = try? ProcessControl.signal(pid, SIGKILL)
        }
        tail.poll()
    }

    /// CPU time (user + system) the daemon has used, in seconds.
    func cpuSeconds() -> Double? { proc.cpuSeconds() }
}

/// Files for the bench agent: `<dir>/<phase>_<batch>.plan` ("<delay_us> <mode> <hold_us>")
/// and `<dir>/<phase>_<batch>.json` (the bytes it writes).
struct AgentPlans {
    let dir: String

    init(dir: String) throws {
        self.dir = dir
        try Files.mkdir(dir)
    }

    func add(phase: String, batch: Int, delay: Double, inPlace: Bool, hold: Double, bytes: [UInt8]) throws {
        try Files.write("\(dir)/\(phase)_\(batch).plan",
                        "\(Int(delay * 1e6)) \(inPlace ? "inplace" : "rename") \(Int(hold * 1e6))\n")
        try Files.write("\(dir)/\(phase)_\(batch).json", bytes)
    }

    func argv(_ agent: String) -> [String] {
        [agent, dir + "/{phase}_{batch}.plan", dir + "/{phase}_{batch}.json", "{output}"]
    }
}

/// The "written <us>" stamp the bench agent prints into its log.
func agentStamp(root: String, run: String = "bench", phase: String, batch: Int, attempt: Int = 1) -> Int64? {
    guard let text = Files.text("\(root)/logs/agents/\(run)/\(phase)-\(batch)-\(attempt).log") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("written ") {
        return Int64(line.dropFirst(8).trimmingSpaces)
    }
    return nil
}

/// Index of records by (phase, batch) for quick lookups.
struct RecordIndex {
    var byBatch: [String: [EventRecord]] = [:]

    init(_ records: [EventRecord]) {
        for r in records {
            guard let p = r.event.phase, let b = r.event.batch else { continue }
            byBatch["\(p)/\(b)", default: []].append(r)
        }
    }

    func first(_ phase: String, _ batch: Int, _ predicate: (EventRecord) -> Bool) -> EventRecord? {
        byBatch["\(phase)/\(batch)"]?.first(where: predicate)
    }

    func transition(_ phase: String, _ batch: Int, to: String) -> EventRecord? {
        first(phase, batch) { $0.transition(to: to) }
    }
}
