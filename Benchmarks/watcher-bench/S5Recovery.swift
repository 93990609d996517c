import Glibc
import WatcherCore
import WatcherSystem

/// Scenario 5: start-up on a 1,000,000-line event log (replay), and on a mailbox of 100,000 files (scan).
struct RecoveryScenario {
    let bench: Bench
    /// How long a start may take before it is given up (a replay that grows quadratically with
    /// the log would otherwise hold the whole benchmark).
    var limit: Double { bench.quick ? 60 : 150 }

    struct Start {
        var toStarted: Double
        var toScanned: Double
        var scan: Double
        var hwmKB: Int
        var rssKB: Int
    }

    func run() {
        let s = bench.report.section(5, "Recovery")
        let t0 = Now.mono()
        defer { s.seconds = Now.mono() - t0; Report.print(s) }
        let lines = bench.quick ? 100_000 : 1_000_000
        let files = bench.quick ? 20_000 : 100_000
        let reps = bench.quick ? 1 : 3
        var replay: [Start] = [], scan: [Start] = []
        var logBytes: Int64 = 0
        var replayTimedOut = false
        do {
            let root = bench.freshDir("s5-replay")
            defer { bench.cleanup(root) }
            bench.log("scenario 5: writing a \(lines)-line event log")
            logBytes = try prepareReplay(root: root, lines: lines)
            for r in 0..<reps {
                bench.log("scenario 5: replay \(r + 1)/\(reps)")
                try FileSystem.createDirectory(root + "/mailbox/control/new")
                try Files.write(root + "/mailbox/control/new/pause-\(r).json", "{\"command\":\"pause\",\"run\":\"bench\"}\n")
                guard let st = try start(root: root) else {
                    replayTimedOut = true
                    s.notes.append("Replay: agent-watcher had not logged `watcher.started` \(fmt(limit, 0)) s after it was started; it was killed and the replay was not repeated.")
                    break
                }
                replay.append(st)
            }
        } catch {
            s.notes.append("replay: \(error)")
        }
        do {
            let root = bench.freshDir("s5-scan")
            defer { bench.cleanup(root) }
            bench.log("scenario 5: writing a mailbox of \(files) files")
            try prepareScan(root: root, files: files)
            for r in 0..<reps {
                bench.log("scenario 5: scan \(r + 1)/\(reps)")
                Files.remove(root + "/logs")
                try FileSystem.createDirectory(root + "/mailbox/control/new")
                try Files.write(root + "/mailbox/control/new/pause-\(r).json", "{\"command\":\"pause\",\"run\":\"bench\"}\n")
                if let st = try start(root: root) { scan.append(st) }
            }
        } catch {
            s.notes.append("scan: \(error)")
        }
        var t = Report.Table(title: "Start-up (median of \(reps) start(s))", header: [
            "start on", "exec → watcher.started (replay done)", "watcher.started → scan handled", "exec → scan handled",
            "peak memory (VmHWM)", "RSS after",
        ])
        func row(_ label: String, _ v: [Start]) {
            guard !v.isEmpty else { return }
            t.rows.append([label, fmtS(median(v.map(\.toStarted))), fmtS(median(v.map(\.scan))), fmtS(median(v.map(\.toScanned))),
                           fmtBytes(median(v.map { Double($0.hwmKB) * 1024 })!), fmtBytes(median(v.map { Double($0.rssKB) * 1024 })!)])
        }
        row("\(lines)-line event log (\(fmtBytes(Double(logBytes)))), empty mailbox", replay)
        if replay.isEmpty && replayTimedOut {
            t.rows.append(["\(lines)-line event log (\(fmtBytes(Double(logBytes)))), empty mailbox", "> \(fmt(limit, 0)) s (killed)", "–", "–", "–", "–"])
        }
        row("empty event log, mailbox of \(files) files in \(files / 1000) watched folders", scan)
        s.tables.append(t)
        s.intro.append("""
            Replay: a \(lines)-line `logs/events.jsonl` written with the daemon's own record encoder (with CRCs): \
            `run.started` then, for each of \((lines - 1) / 7) batches of a one-phase run (batch size 1), the seven \
            records of a clean life (`→ spawning`, `→ running`, `→ validating`, `→ merging`, `→ merged`, \
            `agent.exited`, `file.archived`); the spec names the same \((lines - 1) / 7) items. Replay time is from \
            the harness's clock just before posix_spawn of `agent-watcher run` to the `ts` of `watcher.started`, \
            which the daemon logs after reading, checking and folding the whole log (process start and spec loading \
            included). Scan: \(files) files (200 bytes each) in `mailbox/agents/aNNN/new/`, \(files / 1000) folders \
            of 1,000, all watched and listed at start (`accepted/`, `rejected/`, `cur/` and `tmp/` are never \
            listed, so archives cost nothing); a `pause` control message dropped beside them marks the end: its \
            `control.applied` record is logged after every file found by the scan has been handled. Page cache warm \
            (files just written). Peak memory: VmHWM of the daemon after that record.
            """)
        let rp = median(replay.map(\.toStarted)), sc = median(scan.map(\.scan))
        let hwm = median(replay.map { Double($0.hwmKB) * 1024 })
        s.notes.append("""
            No checkpoint of the folded state is written yet (issue 11 allows one, verified against the log): \
            every start above is the full replay, so the checkpointed start and the full one are the same row.
            """)
        if replayTimedOut || (rp ?? 0) >= 1 {
            s.notes.append("""
                What limits the replay (perf of a replay with the batches in `BatchTable`, per-run arrays, and \
                the compact `Batch`): decoding the lines ≈ 41% (the member reader, the string and number \
                parsers, a `String` for each `ts`, path and checksum), folding the transitions into the state \
                ≈ 18%, the foreground `run`'s progress fold ≈ 10%, the CRC-32 ≈ 10%, freeing the records ≈ 4%, \
                the run's batches made from `run.started` ≈ 4%, the scheduling index built at the end ≈ 4%. \
                Peak memory is the folded state (about 100 bytes a batch, its merged checksum a 64-byte \
                string) and the spec's items. Next step: a checkpoint of the folded state beside the log, \
                verified against it, so a start decodes only the records after it.
                """)
        }
        if replayTimedOut && replay.isEmpty {
            s.bars.append(.init(scenario: "5", bar: "full replay of a \(lines)-line event log (no checkpoint) under 2 s",
                                measured: "not done after \(fmt(limit, 0)) s (killed)", met: false))
        } else {
            let measured = "\(fmtS(rp)), peak memory \(fmtBytes(hwm ?? 0))"
            s.bars.append(.init(scenario: "5", bar: "replay of a \(lines)-line event log under 1 s with peak memory under 100 MiB (a verified checkpoint allowed)",
                                measured: measured + " (no checkpoint: the full replay)",
                                met: rp.flatMap { t in hwm.map { t < 1 && $0 < 100 * 1024 * 1024 } }))
            s.bars.append(.init(scenario: "5", bar: "full replay of a \(lines)-line event log (no checkpoint) under 2 s",
                                measured: measured, met: rp.map { $0 < 2 }))
        }
        s.bars.append(.init(scenario: "5", bar: "rescan of a mailbox of \(files) files under 2 s",
                            measured: "\(fmtS(sc)) (exec → handled \(fmtS(median(scan.map(\.toScanned))))), peak memory \(fmtBytes(Double(median(scan.map { Double($0.hwmKB) }) ?? 0) * 1024))",
                            met: sc.map { $0 < 2 }))
    }

    func spec(root: String, items: Int) throws {
        let ids = (1...max(1, items)).map { "R" + DetectScenario.pad($0) }
        try Files.write(root + "/items.json", itemsFileText(ids))
        var spec = SpecDef()
        spec.phases = [.init(id: "1", strategy: "object", key: "items", file: "out/main.json")]
        try Files.write(root + "/pipeline.json", spec.json())
    }

    /// Writes the event log; returns its size.
    func prepareReplay(root: String, lines: Int) throws -> Int64 {
        let batches = (lines - 1) / 7
        try spec(root: root, items: batches)
        try FileSystem.createDirectory(root + "/logs")
        let fd = try FileDescriptor.open(root + "/logs/events.jsonl", O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        var seq: UInt64 = 1
        var second = 1_795_000_000
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 22)
        func add(_ e: Event) throws {
            let r = EventRecord(seq: seq, ts: Clock.iso8601(seconds: second, microseconds: Int(seq % 1_000_000)), event: e)
            buffer += r.encoded()
            seq += 1
            if seq % 1000 == 0 { second += 1 }
            if buffer.count > (1 << 22) - 4096 { try fd.writeAll(buffer); buffer.removeAll(keepingCapacity: true) }
        }
        try add(Event(event: EventName.runStarted, run: "bench", details: [
            .init("phases", .strings(["1"])), .init("batches", .int(batches)), .init("items", .int(batches)),
            .init("batch_size", .int(1)), .init("concurrency", .int(1)),
        ]))
        let checksum = String(repeating: "ab", count: 32)
        for b in 1...batches {
            func tr(_ from: String, _ to: String, _ details: [Event.Detail] = []) -> Event {
                Event(event: EventName.transition, run: "bench", phase: "1", batch: b, attempt: 1, from: from, to: to, details: details)
            }
            let pid = 10_000 + b % 50_000
            try add(tr("pending", "spawning"))
            try add(tr("spawning", "running", [.init("pid", .int(pid))]))
            try add(tr("running", "validating"))
            try add(tr("validating", "merging", [.init("checksum", .string(checksum))]))
            try add(tr("merging", "merged", [.init("checksum", .string(checksum)), .init("items", .int(1)), .init("already_merged", .bool(false))]))
            try add(Event(event: EventName.agentExited, run: "bench", phase: "1", batch: b, attempt: 1,
                          details: [.init("pid", .int(pid)), .init("status", .string("exit 0"))]))
            try add(Event(event: EventName.fileArchived, run: "bench", phase: "1", batch: b, attempt: 1, reason: "accepted", details: [
                .init("from", .string(root + "/mailbox/bench/outbox/1_batch_\(b).json")),
                .init("path", .string(root + "/mailbox/bench/accepted/1_batch_\(b).json")),
            ]))
        }
        try fd.writeAll(buffer)
        try fd.close()
        return Files.size(root + "/logs/events.jsonl")
    }

    func prepareScan(root: String, files: Int) throws {
        try spec(root: root, items: 1)
        let body = [UInt8](repeating: 0x78, count: 199) + [0x0A]
        for f in 0..<(files / 1000) {
            let dir = root + "/mailbox/agents/a\(f)/new"
            try FileSystem.createDirectory(dir)
            for i in 0..<1000 { try Files.write(dir + "/m\(i).json", body) }
        }
    }

    func start(root: String) throws -> Start? {
        let logPath = root + "/logs/events.jsonl"
        let offset = Files.size(logPath)
        let d = try DaemonRun(bench, root: root, spec: root + "/pipeline.json", logOffset: offset)
        defer { d.stop() }
        guard let started = d.waitFor("watcher.started", timeout: limit, { $0.event.event == "watcher.started" }),
              let done = d.waitFor("control.applied", timeout: limit, { $0.event.event == "control.applied" || $0.event.event == "control.rejected" })
        else { return nil }
        let status = d.proc.procStatus()
        return Start(toStarted: Double(started.micros - d.startedAt) / 1e6, toScanned: Double(done.micros - d.startedAt) / 1e6,
                     scan: Double(done.micros - started.micros) / 1e6, hwmKB: status?.hwmKB ?? 0, rssKB: status?.rssKB ?? 0)
    }
}
