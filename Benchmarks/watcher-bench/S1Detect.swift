import Glibc
import WatcherCore
import WatcherSystem

/// Scenario 1: drop-to-detect latency, rename-in and write-in-place apart, against the tools
/// people would use instead.
struct DetectScenario {
    enum Peer: String, CaseIterable {
        case floor = "C inotify reader (floor)"
        case inotifywait = "inotifywait -m | Python reader"
        case watchdog = "Python watchdog"
        case watchman = "watchman subscription"
        case poll = "poll loop 0.5 s"
        case watcher = "agent-watcher"
        case watcherTmpfs = "agent-watcher, root on tmpfs"

        var tag: String {
            switch self {
            case .floor: "floor"
            case .inotifywait: "inotifywait"
            case .watchdog: "watchdog"
            case .watchman: "watchman"
            case .poll: "poll"
            case .watcher: "aw"
            case .watcherTmpfs: "aw-tmpfs"
            }
        }
    }

    struct Drop {
        var index: Int
        var inPlace: Bool
        var gap: Double
    }

    struct Block {
        var rename: [Double] = []
        var inPlace: [Double] = []
        var missed = 0
        /// agent-watcher: per batch, `→ validating` to its `file.archived` (the loop's work for one drop).
        var service: [Double] = []
    }

    let bench: Bench

    func run() {
        let s = bench.report.section(1, "Drop-to-detect latency")
        let t0 = Now.mono()
        defer { s.seconds = Now.mono() - t0; Report.print(s) }
        let total = bench.quick ? 200 : 2000
        let rounds = bench.quick ? 1 : 4
        var rng = Rng(1)
        let drops = (0..<total).map { i in Drop(index: i + 1, inPlace: rng.bool(), gap: rng.uniform(0.005, 0.050)) }
        var peers: [Peer] = []
        for p in Peer.allCases {
            if let why = unavailable(p) { s.notes.append("\(p.rawValue): skipped, \(why).") } else { peers.append(p) }
        }
        let perRound = total / rounds
        var results: [Peer: [Block]] = [:]
        for r in 0..<rounds {
            for p in rng.shuffled(peers) {
                let block = Array(drops[(r * perRound)..<((r + 1) * perRound)])
                bench.log("scenario 1: round \(r + 1)/\(rounds), \(p.rawValue), \(block.count) drops")
                do {
                    results[p, default: []].append(try runBlock(p, block, round: r))
                } catch {
                    s.notes.append("\(p.rawValue), round \(r + 1): failed: \(error)")
                }
            }
        }
        let settleSamples = bench.quick ? 100 : 1000
        let settle = bench.bin["bench_agent"] != nil ? settleRun(samples: settleSamples, tmpfs: false) : nil
        let settleTmpfs = bench.bin["bench_agent"] != nil && bench.tmpfsWork != nil ? settleRun(samples: settleSamples, tmpfs: true) : nil

        s.intro.append("""
            \(total) drops (\(drops.filter { !$0.inPlace }.count) renamed in from a sibling folder, \
            \(drops.filter(\.inPlace).count) written in place), gaps drawn uniformly from 5-50 ms (seeded), \
            in \(rounds) round(s); in each round every tool gets the same \(perRound) drops, tools in a shuffled \
            order, one tool at a time. Latency = the detector's CLOCK_REALTIME minus the writer's, read just \
            before its close() (in place) or rename(). agent-watcher's end is the `ts` of the batch's \
            `pending → validating` record (reason `output_dropped`: a file dropped by hand for a pending batch; \
            the record is stamped before it is written and fsynced). Root on \(bench.workFS) \
            (\(bench.work)).
            """)
        var table = Report.Table(title: "Latency from close()/rename() to detection",
                                 header: ["detector", "rename p50", "p90", "p99", "in-place p50", "p90", "p99",
                                          "missed", "p50 vs floor (rename / in-place)"])
        let floorBlocks = results[.floor] ?? []
        func ratios(_ p: Peer, _ pick: (Block) -> [Double]) -> Double? {
            guard let mine = results[p] else { return nil }
            var rs: [Double] = []
            for (r, b) in mine.enumerated() where r < floorBlocks.count {
                if let a = median(pick(b)), let f = median(pick(floorBlocks[r])), f > 0 { rs.append(a / f) }
            }
            return median(rs)
        }
        for p in Peer.allCases {
            guard let blocks = results[p] else { continue }
            let rn = Stats(blocks.flatMap(\.rename)), ip = Stats(blocks.flatMap(\.inPlace))
            table.rows.append([p.rawValue, fmtUs(rn?.p50), fmtUs(rn?.p90), fmtUs(rn?.p99),
                               fmtUs(ip?.p50), fmtUs(ip?.p90), fmtUs(ip?.p99), String(blocks.map(\.missed).reduce(0, +)),
                               "\(fmtRatio(ratios(p, \.rename))) / \(fmtRatio(ratios(p, \.inPlace)))"])
            if p == .poll, let rn, let ip {
                // A poll of period P: latency = U(0, P) + the listing time, so quantile q moves by (P - 0.5 s) * q.
                func at(_ v: Double, _ q: Double, _ period: Double, _ sleep: Double) -> Double { v + (period - 0.5) * q * 1e6 + sleep * 1e6 }
                for (label, sleep) in [("poll loop 5 s (formula)", 0.0), ("poll 5 s + sleep 2 s: the replaced scripts (formula)", 2.0)] {
                    table.rows.append([label, fmtUs(at(rn.p50, 0.5, 5, sleep)), fmtUs(at(rn.p90, 0.9, 5, sleep)),
                                       fmtUs(at(rn.p99, 0.99, 5, sleep)), fmtUs(at(ip.p50, 0.5, 5, sleep)),
                                       fmtUs(at(ip.p90, 0.9, 5, sleep)), fmtUs(at(ip.p99, 0.99, 5, sleep)), "–", "–"])
                }
            }
        }
        s.tables.append(table)
        if let settle {
            var t = Report.Table(title: "agent-watcher, in place by a running agent (settle window \(settle.settleMs) ms applies)",
                                 header: ["", "n", "p50", "p90", "p99", "max", "p50 − settle", "p99 − settle"])
            let st = Stats(settle.latencies)
            let w = Double(settle.settleMs) * 1000
            t.rows.append(["close() → running → validating, root on \(bench.workFS)", String(st?.n ?? 0), fmtUs(st?.p50), fmtUs(st?.p90),
                           fmtUs(st?.p99), fmtUs(st?.max), fmtUs(st.map { $0.p50 - w }), fmtUs(st.map { $0.p99 - w })])
            if let tf = settleTmpfs.map({ Stats($0.latencies) }) ?? nil {
                t.rows.append(["the same, root on tmpfs", String(tf.n), fmtUs(tf.p50), fmtUs(tf.p90), fmtUs(tf.p99), fmtUs(tf.max),
                               fmtUs(tf.p50 - w), fmtUs(tf.p99 - w)])
            }
            s.tables.append(t)
            s.notes.append("""
                In-place by an agent: \(settle.latencies.count) batches, each agent (the C bench agent, \(settle.concurrency) at \
                a time) waits 5-50 ms, writes its output in place, stamps, closes, and stays alive \(settle.holdMs) ms so the \
                settle window, not its exit, completes the file. End: the `running → validating` record. \
                \(settle.excluded) sample(s) whose agent exit came first were left out.
                """)
            let p99 = st.map { $0.p99 - w }
            if let p99, p99 > 1000 {
                let tf = settleTmpfs.map { Stats($0.latencies) } ?? nil
                s.notes.append("""
                    What limits the settle precision. Two things. (1) The loop's poll() timeout is whole milliseconds, \
                    rounded up (Daemon.pollTimeout → Instant.milliseconds(until:)), so every deadline fires 0-1 ms late \
                    (\(fmtUs(tf.map { $0.p50 - w })) past the window at p50 on tmpfs); ppoll() with a timespec computed from \
                    the deadline in nanoseconds (WatcherSystem/Poller.swift) removes that. (2) A deadline that falls due \
                    while the loop is busy with another batch's durable work (merge and archive with their fsyncs, \
                    \(settle.concurrency) agents here) waits for it: that is the gap between the disk row (p99 settle + \
                    \(fmtUs(p99))) and the tmpfs row (p99 settle + \(fmtUs(tf.map { $0.p99 - w }))). Fewer syncs per batch \
                    (scenarios 2 and 4) or the durable work on a second thread would close it.
                    """)
            }
            s.bars.append(.init(scenario: "1", bar: "in-place p99 ≤ settle window + 1 ms (settle \(settle.settleMs) ms)",
                                measured: "settle + \(fmtUs(p99)) at p99 (p50 settle + \(fmtUs(st.map { $0.p50 - w })))",
                                met: p99.map { $0 <= 1000 }))
        }
        let aw = results[.watcher].map { Stats($0.flatMap(\.rename)) } ?? nil
        let ratio = ratios(.watcher, \.rename)
        s.bars.insert(.init(scenario: "1", bar: "rename-in p50 within 3× of the C floor",
                            measured: "\(fmtRatio(ratio)) (agent-watcher p50 \(fmtUs(aw?.p50)), floor p50 \(fmtUs((Stats(floorBlocks.flatMap(\.rename)))?.p50)); median of per-round ratios)",
                            met: ratio.map { $0 <= 3 }), at: 0)
        s.bars.insert(.init(scenario: "1", bar: "rename-in p99 under 1 ms", measured: fmtUs(aw?.p99), met: aw.map { $0.p99 < 1000 }), at: 1)
        if let aw, aw.p99 >= 1000, let floor = Stats(floorBlocks.flatMap(\.rename)) {
            let tmpfsP99 = (results[.watcherTmpfs].map { Stats($0.flatMap(\.rename)) } ?? nil)?.p99
            if floor.p99 >= 1000 {
                s.notes.append("""
                    The p99 bar: agent-watcher's rename-in p99 is \(fmtUs(aw.p99)), but the C floor's own p99 in the same \
                    rounds is \(fmtUs(floor.p99)) (nothing but a blocking read() and a clock read): at this load no process on \
                    this shared 2-core machine gets under 1 ms at p99. The daemon's own share is the queueing described below.
                    """)
            } else {
                s.notes.append("""
                    The p99 bar: agent-watcher's rename-in p99 is \(fmtUs(aw.p99)) while the C floor's is \(fmtUs(floor.p99)) \
                    and the same daemon's on tmpfs \(fmtUs(tmpfsP99)): the tail is the daemon's own, drops queued behind the \
                    previous drop's durable work when the disk's syncs are slow (the next note gives that work's p50 and \
                    p99). What would fix it: fewer syncs per batch (scenario 2's fixes) and the durable work (merge, \
                    archive, their fsyncs) off the thread that reads inotify, so detection never waits for a sync.
                    """)
            }
        }
        let gap = drops.map(\.gap).reduce(0, +) / Double(drops.count)
        for (p, label) in [(Peer.watcher, bench.workFS), (Peer.watcherTmpfs, "tmpfs")] {
            guard let blocks = results[p], let sv = Stats(blocks.flatMap(\.service)) else { continue }
            s.notes.append("""
                agent-watcher (root on \(label)): each drop costs the daemon's one thread \(fmtUs(sv.p50)) at p50, \(fmtUs(sv.p99)) at \
                p99 (from its `→ validating` to its `file.archived` record: read, check, merge into the main file, archive, \
                with their fsyncs), against a mean gap of \(fmtUs(gap * 1e6)) between drops. A drop that lands while that \
                work runs waits for it: that, not inotify, is what the tail of agent-watcher's detection latency measures.
                """)
        }
        s.notes.append("""
            The in-place rows of agent-watcher above are hand drops for a pending batch: as the README says, a file \
            dropped by hand for a batch that is not running is complete at its close or rename, with no settle \
            window, so those rows measure the same path as the renamed ones. The settle window applies to a running \
            agent's in-place writes (table above).
            """)
    }

    func unavailable(_ p: Peer) -> String? {
        switch p {
        case .floor: return bench.bin["inotify_reader"] == nil ? "no C compiler" : nil
        case .inotifywait: return bench.inotifywait == nil ? "inotifywait not installed" : bench.python == nil ? "no python3" : nil
        case .watchdog: return bench.watchdogPython == nil ? "the Python watchdog module is not installed" : nil
        case .watchman: return bench.watchman == nil ? "watchman not installed" : bench.python == nil ? "no python3" : nil
        case .poll: return bench.python == nil ? "no python3" : nil
        case .watcher: return nil
        case .watcherTmpfs: return bench.tmpfsWork == nil ? "/dev/shm is not a tmpfs here" : nil
        }
    }

    static let filler = String(repeating: "the quick brown fox jumps over the lazy dog; ", count: 20)

    static func payload(_ index: Int) -> [UInt8] {
        Array("{\"items\": {\"I\(pad(index))\": {\"text\": \(jstr(filler))}}}\n".utf8)
    }

    static func pad(_ i: Int) -> String {
        let s = String(i)
        return String(repeating: "0", count: max(0, 6 - s.count)) + s
    }

    /// Writes one drop and returns the writer's stamp (taken just before close() or rename()).
    static func drop(_ bytes: [UInt8], inPlace: Bool, into dir: String, staging: String, name: String) -> Int64 {
        func writeAll(_ fd: Int32) {
            bytes.withUnsafeBytes { buf in
                var off = 0
                while off < buf.count {
                    let n = write(fd, buf.baseAddress! + off, buf.count - off)
                    if n <= 0 { if errno == EINTR { continue }; return }
                    off += n
                }
            }
        }
        if inPlace {
            let fd = open(dir + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            writeAll(fd)
            let ts = Now.us()
            close(fd)
            return ts
        }
        let tmp = staging + "/" + name
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        writeAll(fd)
        close(fd)
        let ts = Now.us()
        rename(tmp, dir + "/" + name)
        return ts
    }

    func runBlock(_ peer: Peer, _ drops: [Drop], round: Int) throws -> Block {
        if peer == .watcher || peer == .watcherTmpfs { return try watcherBlock(drops, round: round, tmpfs: peer == .watcherTmpfs) }
        let dir = bench.freshDir("s1-\(peer.tag)-\(round)")
        defer { bench.cleanup(dir) }
        let watch = dir + "/watch", staging = dir + "/staging", out = dir + "/detected.txt"
        try Files.mkdir(watch)
        try Files.mkdir(staging)
        let argv: [String]
        switch peer {
        case .floor: argv = [bench.bin["inotify_reader"]!, watch, out]
        case .inotifywait: argv = [bench.python!, bench.peers + "/inotifywait_peer.py", watch, out]
        case .watchdog: argv = [bench.watchdogPython!, bench.peers + "/watchdog_peer.py", watch, out]
        case .watchman: argv = [bench.python!, bench.peers + "/watchman_peer.py", watch, out, dir + "/watchman-state"]
        case .poll: argv = [bench.python!, bench.peers + "/poll_peer.py", watch, out, "0.5"]
        case .watcher, .watcherTmpfs: fatalError("handled above")
        }
        let p = try Proc(peer.rawValue, argv, output: dir + "/peer.log")
        defer { p.stop() }
        guard waitUntil(timeout: 30, interval: 0.01, { (Files.text(out) ?? "").hasPrefix("READY") }) else {
            throw BenchError("\(peer.rawValue) did not get ready: \(String((Files.text(dir + "/peer.log") ?? "").suffix(300)))")
        }
        sleepSeconds(0.2)
        var written: [String: (ts: Int64, inPlace: Bool)] = [:]
        for d in drops {
            sleepSeconds(d.gap)
            let name = (d.inPlace ? "w-" : "r-") + DetectScenario.pad(d.index) + ".json"
            written[name] = (DetectScenario.drop(DetectScenario.payload(d.index), inPlace: d.inPlace, into: watch,
                                                 staging: staging, name: name), d.inPlace)
        }
        var seen: [String: Int64] = [:]
        waitUntil(timeout: peer == .poll ? 2 : 3, interval: 0.02) {
            seen = DetectScenario.parseDetections(out)
            return written.keys.allSatisfy { seen[$0] != nil }
        }
        var block = Block()
        for (name, w) in written {
            guard let t = seen[name] else { block.missed += 1; continue }
            if w.inPlace { block.inPlace.append(Double(t - w.ts)) } else { block.rename.append(Double(t - w.ts)) }
        }
        return block
    }

    static func parseDetections(_ path: String) -> [String: Int64] {
        var seen: [String: Int64] = [:]
        for line in (Files.text(path) ?? "").split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, let t = Int64(f[1]), seen[String(f[0])] == nil { seen[String(f[0])] = t }
        }
        return seen
    }

    /// agent-watcher: batch 1 holds the only slot with an idle agent, the drops are hand-dropped
    /// outputs of the pending batches 2...
    func watcherBlock(_ drops: [Drop], round: Int, tmpfs: Bool) throws -> Block {
        let root = bench.freshDir("s1-aw\(tmpfs ? "-tmpfs" : "")-\(round)", tmpfs: tmpfs)
        defer { bench.cleanup(root) }
        let ids = (1...(drops.count + 1)).map { "I" + DetectScenario.pad($0) }
        try Files.write(root + "/items.json", itemsFileText(ids))
        var spec = SpecDef()
        spec.phases = [.init(id: "1", strategy: "object", key: "items", file: "out/main.json")]
        try Files.write(root + "/pipeline.json", spec.json())
        let staging = root + "/staging"
        try Files.mkdir(staging)
        let d = try DaemonRun(bench, root: root, spec: root + "/pipeline.json")
        defer { d.stop() }
        guard d.waitFor("batch 1 running", timeout: 30, { $0.transition(to: "running") }) != nil else {
            throw BenchError("agent-watcher did not start")
        }
        sleepSeconds(0.3)
        let outbox = d.layoutOutbox
        var written: [Int: (ts: Int64, inPlace: Bool)] = [:]
        for (i, drop) in drops.enumerated() {
            sleepSeconds(drop.gap)
            let batch = i + 2
            written[batch] = (DetectScenario.drop(DetectScenario.payload(batch), inPlace: drop.inPlace, into: outbox,
                                                  staging: staging, name: "1_batch_\(batch).json"), drop.inPlace)
        }
        var detected: [Int: Int64] = [:]
        waitUntil(timeout: 10, interval: 0.01) {
            for r in d.tail.poll() where r.transition(to: "validating") {
                if let b = r.event.batch, detected[b] == nil { detected[b] = r.micros }
            }
            return detected.count >= written.count
        }
        var block = Block()
        for (batch, w) in written {
            guard let t = detected[batch] else { block.missed += 1; continue }
            if w.inPlace { block.inPlace.append(Double(t - w.ts)) } else { block.rename.append(Double(t - w.ts)) }
        }
        waitUntil(timeout: 5, interval: 0.02) {
            d.tail.poll()
            return d.tail.records.filter { $0.event.event == "file.archived" }.count >= written.count
        }
        let index = RecordIndex(d.tail.records)
        for batch in written.keys {
            if let v = index.transition("1", batch, to: "validating"), let a = index.first("1", batch, { $0.event.event == "file.archived" }) {
                block.service.append(Double(a.micros - v.micros))
            }
        }
        return block
    }

    struct SettleResult {
        var latencies: [Double]
        var settleMs: Int
        var holdMs: Int
        var concurrency: Int
        var excluded: Int
    }

    /// In-place outputs written by running agents: the settle window decides when they are complete.
    func settleRun(samples: Int, tmpfs: Bool) -> SettleResult? {
        bench.log("scenario 1: agent-watcher, \(samples) in-place outputs by running agents (settle window)\(tmpfs ? ", root on tmpfs" : "")")
        let root = bench.freshDir("s1-aw-settle\(tmpfs ? "-tmpfs" : "")", tmpfs: tmpfs)
        defer { bench.cleanup(root) }
        let settleMs = 200, holdMs = 350, concurrency = 16
        do {
            let ids = (1...samples).map { "I" + DetectScenario.pad($0) }
            try Files.write(root + "/items.json", itemsFileText(ids))
            let plans = try AgentPlans(dir: root + "/plans")
            var rng = Rng(11)
            for b in 1...samples {
                try plans.add(phase: "1", batch: b, delay: rng.uniform(0.005, 0.050), inPlace: true,
                              hold: Double(holdMs) / 1000, bytes: DetectScenario.payload(b))
            }
            var spec = SpecDef()
            spec.concurrency = concurrency
            spec.settleMilliseconds = settleMs
            spec.agent = plans.argv(bench.bin["bench_agent"]!)
            spec.phases = [.init(id: "1", strategy: "object", key: "items", file: "out/main.json")]
            try Files.write(root + "/pipeline.json", spec.json())
            let d = try DaemonRun(bench, root: root, spec: root + "/pipeline.json")
            defer { d.stop() }
            guard d.waitFor("run.completed", timeout: Double(samples) * 0.5 + 60, { $0.event.event == "run.completed" }) != nil else {
                return nil
            }
            let index = RecordIndex(d.tail.records)
            var lat: [Double] = []
            var excluded = 0
            for b in 1...samples {
                guard let w = agentStamp(root: root, phase: "1", batch: b),
                      let v = index.first("1", b, { $0.transition(to: "validating") && $0.event.from == "running" }) else { continue }
                if let exited = index.first("1", b, { $0.event.event == "agent.exited" }), exited.seq < v.seq { excluded += 1; continue }
                lat.append(Double(v.micros - w))
            }
            return SettleResult(latencies: lat, settleMs: settleMs, holdMs: holdMs, concurrency: concurrency, excluded: excluded)
        } catch {
            bench.log("scenario 1: settle run failed: \(error)")
            return nil
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
