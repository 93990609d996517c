import WatcherCore
import WatcherSystem

/// Scenario 4: many small batches through spawn -> detect -> validate -> merge, with an agent
/// that renames its prepared output into the outbox and exits at once.
struct ThroughputScenario {
    let bench: Bench

    struct Result {
        var batches: Int
        var seconds: Double
        var transitions: Int
        var records: Int
        var cpu: Double?
        var merged: Int
        var firstHalf: Double
        var secondHalf: Double
        var mainBytes: Int64
        /// The `run.completed` record: its seq and time.
        var completedSeq: UInt64? = nil
        var completedMicros: Int64? = nil
    }

    func run() {
        let s = bench.report.section(4, "Throughput")
        let t0 = Now.mono()
        defer { s.seconds = Now.mono() - t0; Report.print(s) }
        guard let agent = bench.bin["bench_agent"] else { s.notes.append("Not measured: needs the C bench agent (cc)."); return }
        let n = bench.quick ? 1000 : 10_000
        let concurrency = 8
        var t = Report.Table(title: "\(n) batches of one item each, concurrency \(concurrency)", header: [
            "root", "wall time", "batches/s", "transitions/s", "records/s", "daemon CPU per batch",
            "batches/s, first half", "second half", "main file at the end",
        ])
        var results: [(String, Result)] = []
        for onTmpfs in bench.tmpfsWork == nil ? [false] : [true, false] {
            let label = onTmpfs ? "tmpfs" : bench.workFS
            bench.log("scenario 4: \(n) batches, root on \(label)")
            do {
                if let r = try once(n: n, concurrency: concurrency, agent: agent, tmpfs: onTmpfs) {
                    results.append((label, r))
                    t.rows.append([label, fmtS(r.seconds), fmtCount(Double(r.batches) / r.seconds),
                                   fmtCount(Double(r.transitions) / r.seconds), fmtCount(Double(r.records) / r.seconds),
                                   fmtS(r.cpu.map { $0 / Double(r.batches) }), fmtCount(r.firstHalf), fmtCount(r.secondHalf),
                                   fmtBytes(Double(r.mainBytes))])
                }
            } catch {
                s.notes.append("\(label): \(error)")
            }
        }
        s.tables.append(t)
        s.intro.append("""
            One phase of \(n) batches of one item (about 120 bytes), object strategy, concurrency \(concurrency). Each \
            batch's agent is the C bench agent with the plan "rename at once, exit": it renames its prepared output \
            from outbox/tmp/ into the outbox and exits, so every batch makes the whole trip: `pending → spawning → \
            running → validating → merging → merged`, plus `agent.exited` and `file.archived`, each group of records \
            fdatasynced before its effect, the main file replaced atomically per batch and the batch file archived \
            with its checksum. Time: from the first `→ spawning` record to `run.completed`.
            """)
        if let disk = results.first(where: { $0.0 != "tmpfs" })?.1, Double(disk.batches) / disk.seconds < 2000 {
            s.notes.append("""
                What limits it. On disk, syncs: a batch takes 10 fsync-family calls on the daemon's one thread (strace \
                at this commit, concurrency 1: fdatasync of `→ spawning`, `→ running`, `→ validating`, `→ merging`, \
                `→ merged`; main file fsync + folder fsync; `.sha256` fsync + folder fsync; archive folder fsync). Group \
                commit folds the event-log syncs of batches that arrive together and a round's merges share one main-file \
                write, but the `.sha256` and archive syncs are per batch. On tmpfs, CPU, and it grows with the run \
                (compare the halves): perf of the daemon over a 10,000-batch run on tmpfs (BENCH_DAEMON_WRAP, below): \
                MergePlanner.plan ≈ 81% — Merger calls it once per batch, even inside a grouped round, and each call \
                scans the whole, growing main file (≈ 45%), calls RunContext.batchOf for every item already there to \
                find the insertion point (≈ 18%) and hashes every existing id (≈ 13%): O(n) per batch, O(n²) per run. \
                Fixes: plan a round's batches in one call (one scan and one splice for k batches: an API that takes \
                several MergeRequests, in MergePlanner.swift, called from Merger.merge); give the request the highest \
                batch already in the file so the in-order case skips the batchOf walk; the O(batch) append of \
                scenario 3; the `.sha256` without AtomicFile (its checksum is in the `merged` record) and one fsync of \
                accepted/ per round (Daemon.accept).
                """)
        }
        if let disk = results.first(where: { $0.0 != "tmpfs" })?.1 {
            let rate = Double(disk.batches) / disk.seconds
            s.bars.append(.init(scenario: "4", bar: "≥ 2,000 batches/s end to end, every transition durable",
                                measured: "\(fmtCount(rate)) batches/s, \(fmtCount(Double(disk.transitions) / disk.seconds)) transitions/s on \(bench.workFS)"
                                    + (results.first(where: { $0.0 == "tmpfs" }).map { "; tmpfs \(fmtCount(Double($0.1.batches) / $0.1.seconds)) batches/s" } ?? ""),
                                met: rate >= 2000))
        }
    }

    /// `beside`: called with the root once the spec is written, before the daemon starts (scenario 8
    /// starts the dashboard and its clients there).
    func once(n: Int, concurrency: Int, agent: String, tmpfs: Bool, beside: ((String) throws -> Void)? = nil) throws -> Result? {
        let root = bench.freshDir("s4-\(tmpfs ? "tmpfs" : "disk")", tmpfs: tmpfs)
        defer { bench.cleanup(root) }
        let ids = (1...n).map { "T" + DetectScenario.pad($0) }
        try Files.write(root + "/items.json", itemsFileText(ids))
        let plans = try AgentPlans(dir: root + "/plans")
        for (i, id) in ids.enumerated() {
            try plans.add(phase: "1", batch: i + 1, delay: 0, inPlace: false, hold: 0,
                          bytes: Array("{\"items\": {\(jstr(id)): {\"known\": \"I want to speak Spanish with you now.\", \"n\": \(i + 1)}}}\n".utf8))
        }
        var spec = SpecDef()
        spec.concurrency = concurrency
        spec.agent = plans.argv(agent)
        spec.phases = [.init(id: "1", strategy: "object", key: "items", file: "out/main.json")]
        try Files.write(root + "/pipeline.json", spec.json())
        try beside?(root)
        let d = try DaemonRun(bench, root: root, spec: root + "/pipeline.json")
        defer { d.stop() }
        guard let done = d.waitFor("run.completed", timeout: Double(n) * 0.1 + 120, { $0.event.event == "run.completed" }) else { return nil }
        let cpu = d.cpuSeconds()
        let records = d.tail.records
        guard let first = records.first(where: { $0.transition(to: "spawning") }) else { return nil }
        let window = records.filter { $0.seq >= first.seq && $0.seq <= done.seq }
        let merged = window.filter { $0.transition(to: "merged") }
        let seconds = Double(done.micros - first.micros) / 1e6
        let half = merged.count / 2
        func rate(_ a: EventRecord, _ b: EventRecord, _ count: Int) -> Double { Double(count) / max(1e-6, Double(b.micros - a.micros) / 1e6) }
        let firstHalf = half > 0 ? rate(first, merged[half - 1], half) : 0
        let secondHalf = half > 0 && merged.count > half ? rate(merged[half - 1], merged[merged.count - 1], merged.count - half) : 0
        return Result(batches: merged.count, seconds: seconds, transitions: window.filter(\.isTransition).count,
                      records: window.count, cpu: cpu, merged: merged.count, firstHalf: firstHalf, secondHalf: secondHalf,
                      mainBytes: Files.size(root + "/out/main.json"), completedSeq: done.seq, completedMicros: done.micros)
    }
}
