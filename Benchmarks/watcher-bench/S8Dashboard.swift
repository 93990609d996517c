import Glibc
import WatcherCore
import WatcherSystem

/// Scenario 8: the dashboard (issue 14). Its pages for a run of 10,000 batches, the fan-out of
/// a burst of records to 100 Server-Sent Events clients (and what running it costs the daemon),
/// and its idle cost with pages open.
struct DashboardScenario {
    let bench: Bench

    func run() {
        let s = bench.report.section(8, "Dashboard")
        let t0 = Now.mono()
        defer { s.seconds = Now.mono() - t0; Report.print(s) }
        pages(s)
        fanOut(s)
        idle(s)
    }

    // MARK: Pages of a 10,000-batch run

    func pages(_ s: Report.Section) {
        let root = bench.freshDir("s8-pages")
        defer { bench.cleanup(root) }
        let perPhase = 2500, phases = ["1", "2", "3", "4"]
        do {
            let (records, bytes) = try writeLog(root: root, perPhase: perPhase, phases: phases)
            let t = Now.mono()
            let d = try DashboardRun(bench, root: root)
            defer { d.proc.stop() }
            let startup = Now.mono() - t
            var table = Report.Table(title: "a run of \(perPhase * phases.count) batches (\(phases.count) phases × \(perPhase)), \(fmtCount(Double(records))) records (\(fmtBytes(Double(bytes)))) in the log",
                                     header: ["page", "status", "bytes", "first request (replays the log)", "later requests (median of 10)", "p90"])
            var runPage: (Double, Double, Int)?
            for (label, path) in [("run page /run/bench", "/run/bench"), ("overview /", "/"), ("timeline /timeline/bench", "/timeline/bench"),
                                  ("/api/status", "/api/status"), ("batch page /batch/bench/2/50", "/batch/bench/2/50")] {
                d.restartCache()
                guard let first = try d.get(path) else { s.notes.append("\(path): no answer"); continue }
                var later: [Double] = []
                var size = first.bytes
                for _ in 0..<10 { if let r = try d.get(path) { later.append(r.seconds); size = r.bytes } }
                let st = Stats(later)
                table.rows.append([label, String(first.status), fmtBytes(Double(size)), fmtS(first.seconds), fmtS(st?.p50), fmtS(st?.p90)])
                if path == "/run/bench" { runPage = (first.seconds, st?.p50 ?? 0, size) }
            }
            s.tables.append(table)
            s.intro.append("""
                Pages: a `logs/events.jsonl` written with the daemon's own record encoder for a run of \(phases.count) phases × \
                \(perPhase) batches: phase 2 fails every 50th batch (its dependants in phases 3 and 4 blocked), the last 8 batches \
                of phase 4 run, the rest merged (seven records each). `agent-watcher dashboard` is started on it (\(fmtS(startup)) \
                from exec to its URL, the log read and checked) and each page asked for over loopback with the token; the time \
                is from the request's first byte to the answer's last, in the harness. The first request after the log changed \
                replays it (the dashboard keeps one replay per change of the log); the later ones reuse that replay and only \
                render. Before each page's first request a record is appended to the log (a `watch.rescan`), so each first \
                request replays.
                """)
            if let (first, warm, size) = runPage {
                s.notes.append("The run page of the 10,000-batch run: \(fmtBytes(Double(size))), \(fmtS(first)) with the replay of the log, \(fmtS(warm)) after.")
            }
            if let st = d.proc.procStatus() { s.notes.append("The dashboard's RSS after these pages: \(fmtBytes(Double(st.rssKB) * 1024)) (VmHWM \(fmtBytes(Double(st.hwmKB) * 1024))).") }
        } catch {
            s.notes.append("pages: failed: \(error)")
        }
    }

    /// The 10,000-batch log; returns (records, bytes).
    func writeLog(root: String, perPhase: Int, phases: [String]) throws -> (Int, Int64) {
        try FileSystem.createDirectory(root + "/logs")
        let fd = try FileDescriptor.open(root + "/logs/events.jsonl", O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        var seq: UInt64 = 1
        var micros: Int64 = 1_795_000_000_000_000
        var buffer: [UInt8] = []
        func add(_ e: Event) throws {
            let r = EventRecord(seq: seq, ts: Clock.iso8601(seconds: Int(micros / 1_000_000), microseconds: Int(micros % 1_000_000)), event: e)
            buffer += r.encoded()
            seq += 1
            micros += 3_000
            if buffer.count > 1 << 22 { try fd.writeAll(buffer); buffer.removeAll(keepingCapacity: true) }
        }
        try add(Event(event: EventName.runStarted, run: "bench", details: [
            .init("phases", .strings(phases)), .init("batches", .int(perPhase * phases.count)), .init("items", .int(perPhase)),
            .init("batch_size", .int(1)), .init("concurrency", .int(8)),
        ]))
        let checksum = String(repeating: "ab", count: 32)
        for (pi, p) in phases.enumerated() {
            for b in 1...perPhase {
                func tr(_ from: String, _ to: String, reason: String? = nil, _ details: [Event.Detail] = []) -> Event {
                    Event(event: EventName.transition, run: "bench", phase: p, batch: b, attempt: 1, from: from, to: to, reason: reason, details: details)
                }
                let pid = 10_000 + b
                if pi >= 2 && b % 50 == 0 {
                    try add(Event(event: EventName.transition, run: "bench", phase: p, batch: b, attempt: 0, from: "pending", to: "blocked",
                                  reason: "dependency_failed", details: [.init("dependency", .string("2/\(b)"))]))
                    continue
                }
                try add(tr("pending", "spawning"))
                try add(tr("spawning", "running", [.init("pid", .int(pid))]))
                if pi == 3 && b > perPhase - 8 { continue }
                if pi == 1 && b % 50 == 0 {
                    try add(tr("running", "validating"))
                    try add(tr("validating", "failed", reason: "validation_failed", [.init("errors", .int(2)), .init("message", .string("2 items broken"))]))
                    continue
                }
                try add(tr("running", "validating"))
                try add(tr("validating", "merging", [.init("checksum", .string(checksum))]))
                try add(tr("merging", "merged", [.init("checksum", .string(checksum)), .init("items", .int(1)), .init("already_merged", .bool(false))]))
                try add(Event(event: EventName.agentExited, run: "bench", phase: p, batch: b, attempt: 1,
                              details: [.init("pid", .int(pid)), .init("status", .string("exit 0"))]))
                try add(Event(event: EventName.fileArchived, run: "bench", phase: p, batch: b, attempt: 1, reason: "accepted", details: [
                    .init("from", .string(root + "/mailbox/bench/outbox/\(p)_batch_\(b).json")),
                    .init("path", .string(root + "/mailbox/bench/accepted/\(p)_batch_\(b).json")),
                ]))
            }
        }
        try fd.writeAll(buffer)
        try fd.close()
        return (Int(seq - 1), Files.size(root + "/logs/events.jsonl"))
    }

    // MARK: Fan-out to 100 stream clients during a burst

    func fanOut(_ s: Report.Section) {
        guard let agent = bench.bin["bench_agent"] else { s.notes.append("fan-out: not measured: needs the C bench agent (cc)."); return }
        guard let py = bench.python else { s.notes.append("fan-out: not measured: needs python3 for the 100 clients."); return }
        let clients = 100
        let batches = bench.quick ? 300 : 1430 // seven records each: about 10,000 records
        let concurrency = 8
        let throughput = ThroughputScenario(bench: bench)
        var table = Report.Table(title: "\(batches) batches of one item, concurrency \(concurrency), root on \(bench.workFS)",
                                 header: ["daemon", "round", "wall time", "batches/s", "records/s", "daemon CPU",
                                          "dashboard CPU", "clients with every record in order", "last record to the last client"])
        var rates: [Bool: [Double]] = [false: [], true: []]
        var allInOrder = true, lags: [Double] = []
        for round in 1...2 {
            for withDashboard in [false, true] {
                bench.log("scenario 8: \(batches) batches, \(withDashboard ? "with the dashboard and \(clients) stream clients" : "alone"), round \(round)")
                var dash: DashboardRun?
                var peer: Proc?
                let out = bench.work + "/s8-clients-\(round).json"
                Files.remove(out)
                defer { peer?.stop(); dash?.proc.stop() }
                do {
                    var cpuBefore: Double?
                    let r = try throughput.once(n: batches, concurrency: concurrency, agent: agent, tmpfs: false, beside: withDashboard ? { root in
                        let d = try DashboardRun(bench, root: root, extra: ["--max-streams", String(clients + 10)])
                        dash = d
                        let ready = root + "/clients.ready"
                        peer = try Proc("sse clients", [py, bench.peers + "/sse_clients.py", String(d.port), d.token, String(clients), "0", out, ready],
                                        output: bench.work + "/s8-clients.log")
                        if !waitUntil(timeout: 60, interval: 0.01, { FileSystem.exists(ready) }) { throw Failure("the stream clients did not connect") }
                        cpuBefore = d.proc.cpuSeconds()
                    } : nil)
                    guard let r else { s.notes.append("round \(round): the run did not complete"); continue }
                    var dashCPU = "–", inOrder = "–", lag = "–"
                    if withDashboard, let d = dash, let p = peer {
                        _ = p.wait(timeout: 120)
                        if let a = cpuBefore, let b = d.proc.cpuSeconds() { dashCPU = fmtS(b - a) }
                        let check = checkClients(out, expected: r)
                        inOrder = "\(check.ok) of \(clients)"
                        if check.ok != clients { allInOrder = false; s.notes.append("round \(round): \(check.problem ?? "")") }
                        if let l = check.lag { lag = fmtS(l); lags.append(l) }
                    }
                    rates[withDashboard, default: []].append(Double(r.batches) / r.seconds)
                    table.rows.append([withDashboard ? "with the dashboard + \(clients) clients" : "alone", String(round), fmtS(r.seconds),
                                       fmtCount(Double(r.batches) / r.seconds), fmtCount(Double(r.records) / r.seconds), fmtS(r.cpu),
                                       dashCPU, inOrder, lag])
                } catch {
                    s.notes.append("round \(round) \(withDashboard ? "with" : "without") the dashboard: \(error)")
                }
            }
        }
        s.tables.append(table)
        s.intro.append("""
            Fan-out: scenario 4's pipeline (the C bench agent renames each batch's output in and exits) for \(batches) batches, \
            about \(fmtCount(Double(batches * 7))) records in a burst, run alone and then with `agent-watcher dashboard` on the \
            same root and \(clients) clients of `/api/stream?since=0` connected before the daemon starts (`Benchmarks/peers/sse_clients.py`, \
            one Python process reading all \(clients) sockets; it shares the 2 cores with the daemon and the dashboard). A client \
            counts as complete when it received every record of the log from seq 1 to `run.completed`, each id one more than \
            the one before. "Last record to the last client": from the `ts` of `run.completed` to the moment the last client \
            had it. Two rounds, alternating.
            """)
        let alone = median(rates[false] ?? []), with = median(rates[true] ?? [])
        s.bars.append(.init(scenario: "8", bar: "SSE fan-out: every one of \(clients) clients gets every record of the burst, in order",
                            measured: allInOrder && !(rates[true] ?? []).isEmpty ? "all, in both rounds; the last client had the last record \(fmtS(lags.max())) after it was logged" : "no (see the notes)",
                            met: allInOrder && !(rates[true] ?? []).isEmpty))
        if let alone, let with {
            let change = (with / alone - 1) * 100
            s.notes.append("The daemon's throughput, median of the rounds: \(fmtCount(with)) batches/s with the dashboard and \(clients) clients, "
                + "\(fmtCount(alone)) alone (\(change >= 0 ? "+" : "")\(fmt(change, 0))%); compare it with how much the rounds alone "
                + "differ from each other: on a shared machine that spread is the noise.")
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// Every client against the log: complete (first 1, last the `run.completed` seq, no gaps).
    func checkClients(_ path: String, expected r: ThroughputScenario.Result) -> (ok: Int, lag: Double?, problem: String?) {
        guard let bytes = Files.read(path), let doc = try? JSONParser.parse(bytes), let list = doc["clients"]?.arrayValue else {
            return (0, nil, "no client report in \(path)")
        }
        guard let completed = r.completedSeq, let completedMicros = r.completedMicros else { return (0, nil, "no run.completed") }
        var ok = 0, latest = 0.0, problem: String?
        for c in list {
            let first = c["first"]?.doubleValue, last = c["last"]?.doubleValue, gaps = c["gaps"]?.doubleValue ?? -1
            let count = c["count"]?.doubleValue ?? 0
            if first == 1, let last, last >= Double(completed), gaps == 0, count >= Double(completed) {
                ok += 1
            } else if problem == nil {
                problem = "a client got count \(count), ids \(first.map { "\(Int($0))" } ?? "-")…\(last.map { "\(Int($0))" } ?? "-"), \(Int(gaps)) gaps; run.completed is #\(completed)"
            }
            if let t = c["done_at"]?.doubleValue, t > 0 { latest = max(latest, t) }
        }
        return (ok, latest > 0 ? latest - Double(completedMicros) / 1e6 : nil, problem)
    }

    // MARK: Idle

    func idle(_ s: Report.Section) {
        let seconds = bench.quick ? 10.0 : 60.0
        let root = bench.freshDir("s8-idle")
        defer { bench.cleanup(root) }
        do {
            _ = try writeLog(root: root, perPhase: 250, phases: ["1", "2"])
            let d = try DashboardRun(bench, root: root)
            defer { d.proc.stop() }
            var peer: Proc?
            defer { peer?.stop() }
            if let py = bench.python {
                let ready = root + "/clients.ready"
                peer = try Proc("sse clients", [py, bench.peers + "/sse_clients.py", String(d.port), d.token, "3", "0", root + "/clients.json", ready],
                                output: root + "/clients.log")
                if !waitUntil(timeout: 30, interval: 0.01, { FileSystem.exists(ready) }) { s.notes.append("idle: the 3 stream clients did not connect") }
            }
            for path in ["/", "/run/bench", "/timeline/bench"] { _ = try d.get(path) }
            sleepSeconds(3)
            let before = d.proc.procStatus(), cpu0 = d.proc.cpuSeconds()
            bench.log("scenario 8: the dashboard idle for \(fmt(seconds, 0)) s")
            sleepSeconds(seconds)
            let after = d.proc.procStatus(), cpu1 = d.proc.cpuSeconds()
            var t = Report.Table(title: "\(fmt(seconds, 0)) s of a dashboard with 3 live streams open, the log not growing",
                                 header: ["process", "threads", "voluntary context switches", "involuntary", "CPU time", "RSS"])
            if let a = before, let b = after {
                let v = b.voluntary - a.voluntary
                t.rows.append(["agent-watcher dashboard", String(b.threads), String(v), String(b.involuntary - a.involuntary),
                               fmtS(cpu1.flatMap { c1 in cpu0.map { c1 - $0 } }), fmtBytes(Double(b.rssKB) * 1024)])
                s.bars.append(.init(scenario: "8", bar: "dashboard idle: no wake-ups over \(fmt(seconds, 0)) s", measured: "\(v) voluntary context switches, CPU \(fmtS(cpu1.flatMap { c1 in cpu0.map { c1 - $0 } }))",
                                    met: v == 0))
            }
            s.tables.append(t)
            s.intro.append("""
                Idle: the dashboard on a finished run's log (500 batches) with 3 clients of `/api/stream` connected (as three \
                open pages) and the overview, run and timeline pages served once; after 3 s of settling, its voluntary context \
                switches (wake-ups after sleeping, all threads, /proc/<pid>/task/*/status) and its CPU time (/proc/<pid>/stat, \
                in clock ticks of 10 ms) over \(fmt(seconds, 0)) s.
                """)
        } catch {
            s.notes.append("idle: failed: \(error)")
        }
    }
}
