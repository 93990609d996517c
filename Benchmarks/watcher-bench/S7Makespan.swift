import Foundation
import AgentWatcher
import DemoCourse
import WatcherCore
import WatcherSystem

/// Scenario 7: the whole course (3 phases) with simulated agents at concurrency 1, 2, 4, 8,
/// against the lower bound and the replaced scripts' sequential order.
struct MakespanScenario {
    let bench: Bench
    let course: Course?

    /// The demo's simulated agent's seeded plan for one batch: 50-500 ms, in place or renamed.
    static func plan(phase: String, batch: Int, seed: UInt64 = 42) -> (seconds: Double, rename: Bool) {
        let p = SimulatedAgent(answersPath: "", itemsPath: "", phase: phase, batch: batch, start: 1, end: 1,
                               attempt: 1, output: "", seed: seed).plan()
        return (p.seconds, p.rename)
    }

    /// The makespan of a greedy list schedule with no overhead at all: whenever a slot is free, the first
    /// ready batch in the given order starts (phase-major: the daemon's order; batch-major: batch k of
    /// every phase before batch k+1).
    static func simulate(_ d: [String: Double], phases: [String], batches nb: Int, concurrency c: Int, batchMajor: Bool) -> Double {
        var done: Set<String> = [], started: Set<String> = []
        var running: [(end: Double, key: String)] = []
        var t = 0.0
        let order: [(p: Int, k: Int)] = batchMajor
            ? (1...nb).flatMap { k in phases.indices.map { (p: $0, k: k) } }
            : phases.indices.flatMap { p in (1...nb).map { (p: p, k: $0) } }
        let total = phases.count * nb
        while done.count < total {
            while running.count < c, let next = order.first(where: { o in
                let key = "\(phases[o.p])/\(o.k)"
                return !started.contains(key) && (o.p == 0 || done.contains("\(phases[o.p - 1])/\(o.k)"))
            }) {
                let key = "\(phases[next.p])/\(next.k)"
                started.insert(key)
                running.append((t + d[key]!, key))
            }
            guard let i = running.indices.min(by: { running[$0].end < running[$1].end }) else { break }
            t = running[i].end
            done.insert(running[i].key)
            running.remove(at: i)
        }
        return t
    }

    func run() {
        let s = bench.report.section(7, "Makespan")
        let t0 = Now.mono()
        defer { s.seconds = Now.mono() - t0; Report.print(s) }
        guard let course, let agent = bench.bin["bench_agent"] else {
            s.notes.append("Not measured: needs the course data and the C bench agent (cc).")
            return
        }
        let seeds = bench.quick ? Array(course.seedIDs.prefix(200)) : course.seedIDs
        let batchSize = 20
        let nb = (seeds.count + batchSize - 1) / batchSize
        let phases = ["1", "3", "5"]
        var d: [String: Double] = [:]
        for p in phases { for k in 1...nb { d["\(p)/\(k)"] = MakespanScenario.plan(phase: p, batch: k).seconds } }
        let work = d.values.reduce(0, +)
        let critical = (1...nb).map { k in phases.map { d["\($0)/\(k)"]! }.reduce(0, +) }.max()!
        let sequential = work + Double(phases.count * nb) * 4.5
        let concurrencies = [1, 2, 4, 8]
        let rounds = bench.quick ? 1 : 2
        var measured: [Int: [Double]] = [:]
        var failures: [String] = []
        for r in 0..<rounds {
            for c in concurrencies {
                bench.log("scenario 7: round \(r + 1)/\(rounds), concurrency \(c), \(seeds.count) seeds")
                do {
                    if let m = try once(seeds: seeds, course: course, concurrency: c, agent: agent, round: r) { measured[c, default: []].append(m) }
                } catch {
                    failures.append("concurrency \(c), round \(r + 1): \(error)")
                }
            }
        }
        var t = Report.Table(title: "\(seeds.count) seeds, \(phases.count) phases × \(nb) batches, agents 50-500 ms (total work \(fmtS(work)), critical path \(fmtS(critical)))",
                             header: ["concurrency", "lower bound", "makespan (median)", "over the bound", "rounds",
                                      "no-overhead schedule, daemon's order", "no-overhead, batch-major order",
                                      "replaced scripts (sequential + 4.5 s per batch)", "scripts / ours"])
        var worst: Double?
        var worstAt = 0
        var idealOver: [Int: (Double, Double)] = [:]
        for c in concurrencies {
            let bound = max(critical, work / Double(c))
            guard let m = median(measured[c] ?? []) else { continue }
            let over = m / bound - 1
            if worst == nil || over > worst! { worst = over; worstAt = c }
            let ideal = MakespanScenario.simulate(d, phases: phases, batches: nb, concurrency: c, batchMajor: false)
            let idealB = MakespanScenario.simulate(d, phases: phases, batches: nb, concurrency: c, batchMajor: true)
            idealOver[c] = (ideal / bound - 1, idealB / bound - 1)
            t.rows.append([String(c), fmtS(bound), fmtS(m), "+" + fmt(over * 100, 1) + " %",
                           measured[c]!.map { fmtS($0) }.joined(separator: ", "),
                           "\(fmtS(ideal)) (+\(fmt((ideal / bound - 1) * 100, 1)) %)", "\(fmtS(idealB)) (+\(fmt((idealB / bound - 1) * 100, 1)) %)",
                           fmtS(sequential), fmtRatio(sequential / m)])
        }
        s.tables.append(t)
        s.intro.append("""
            The course of \(course.source.hasPrefix("the demo") ? "the demo" : "`shared/fixtures/ssi-spa_for_eng`") in the demo's \
            pipeline shape: phases 1 (object, by seed), 3 (array by `seed_id`) and 5 (object by LEGO id, \
            `expectIds: any`), \(batchSize) seeds per batch, batch k of a phase waiting for batch k of the previous one. \
            Each agent is the C bench agent following the plan `agent-watcher simulate-agent` draws for that \
            phase/batch with the demo's seed 42 (`SimulatedAgent.plan()`: 50-500 ms, in place or renamed), then \
            writing that batch's real answer. Two changes from the demo, so the work is fixed and the bound means \
            something: no seeded flaws (they add retries and 2 s timeouts), and no rule sets (`seed_pairs`, \
            `lego_pairs`, `lego_baskets` reject real defects of the course — S0003's \"frecuentamente\", empty \
            baskets — on every attempt, which fails batches and blocks their dependants). Makespan: first \
            `→ spawning` to `run.completed`. Lower bound: max(critical path, total work / concurrency), with the \
            drawn durations. The replaced scripts: phase by phase, one batch at a time: total work + 4.5 s mean \
            detection per batch. Root on \(bench.workFS).
            """)
        for f in failures { s.notes.append(f) }
        if let w = worst, w > 0.10, let io = idealOver[worstAt] {
            s.notes.append("""
                The two simulated columns replay the same drawn durations through a greedy scheduler with no overhead \
                at all: whenever a slot is free, the first ready batch in the given order starts. At concurrency \
                \(worstAt) the daemon's own order alone is +\(fmt(io.0 * 100, 1)) % over the bound and a batch-major order \
                (batch k of every phase before batch k+1) +\(fmt(io.1 * 100, 1)) %; the rest of the measured \
                +\(fmt(w * 100, 1)) % is the per-batch overhead on the daemon's one thread. \
                \(io.1 < io.0 ? "Ordering the ready heap by batch first (WatcherState+Schedule.swift, SchedulingIndex.swift `schedulingKey`: batch index × phases + phase position instead of phase position × stride + batch index) shortens the tail of the run, where the last phase's batches otherwise wait for their chains." : "")
                """)
        }
        if let m1 = median(measured[1] ?? []) {
            let n = Double(phases.count * nb)
            s.notes.append("""
                At concurrency 1 the makespan is the total work plus what happens between agents: \
                \(fmtS((m1 - work) / n)) per batch here (spawn, the agent's own start-up, detection, validation, merge \
                with its syncs, archive, the next spawn; scenario 2 takes that path apart). At higher concurrency those \
                steps overlap agents' work, but they all run on the daemon's one thread, and the critical path (batch k \
                of phase 1 → 3 → 5) pays them three times in series; the scheduler's order (lowest phase first, then \
                lowest batch) gives every waiting batch of an earlier phase priority over any batch of a later one, so a \
                batch's dependants queue behind the rest of its phase, which the bound does not charge. Cutting the per-batch path (scenario 2's fixes) is what moves this figure.
                """)
        }
        if let worst {
            s.bars.append(.init(scenario: "7", bar: "makespan within 10% of the lower bound at every concurrency",
                                measured: "worst +\(fmt(worst * 100, 1)) % (concurrency \(worstAt))", met: worst <= 0.10))
        }
    }

    /// One run; returns the makespan in seconds.
    func once(seeds: [String], course: Course, concurrency: Int, agent: String, round: Int) throws -> Double? {
        let root = bench.freshDir("s7-c\(concurrency)-\(round)")
        defer { bench.cleanup(root) }
        try DemoGenerator.writeItems(seeds: seeds, course: course, into: root)
        let plans = try AgentPlans(dir: root + "/plans")
        let batchSize = 20
        let nb = (seeds.count + batchSize - 1) / batchSize
        for k in 1...nb {
            let ids = Array(seeds[((k - 1) * batchSize)..<min(seeds.count, k * batchSize)])
            for (phase, bytes) in DemoGenerator.batchAnswers(ids: ids, course: course) {
                let p = MakespanScenario.plan(phase: phase, batch: k)
                try plans.add(phase: phase, batch: k, delay: p.seconds, inPlace: !p.rename, hold: 0, bytes: bytes)
            }
        }
        var spec = SpecDef()
        spec.run = "bench"
        spec.itemsFile = "seeds.json"
        spec.itemsKey = "seeds"
        spec.batchSize = batchSize
        spec.concurrency = concurrency
        spec.maxAttempts = 3
        spec.timeoutSeconds = 60
        spec.agent = plans.argv(agent)
        spec.phases = DemoGenerator.phases(rules: false)
        try Files.write(root + "/pipeline.json", spec.json())
        let d = try DaemonRun(bench, root: root, spec: root + "/pipeline.json")
        defer { d.stop() }
        guard let done = d.waitFor("run.completed", timeout: 600, { $0.event.event == "run.completed" }),
              let first = d.tail.records.first(where: { $0.transition(to: "spawning") }) else { return nil }
        if done.event.int("merged") != 3 * nb {
            throw BenchError("only \(done.event.int("merged") ?? 0) of \(3 * nb) batches merged (\(done.event.int("failed") ?? 0) failed)")
        }
        return Double(done.micros - first.micros) / 1e6
    }
}

/// The demo pipeline over any number of the course's seeds (what scripts/make-demo-resources.py does).
enum DemoGenerator {
    static func phases(rules: Bool) -> [SpecDef.Phase] {
        [
            .init(id: "1", strategy: "object", key: "translations", file: "output/seed_pairs.json",
                  template: "{\"version\": \"7.7.0\", \"course\": \"spa_for_eng\", \"target_language\": \"spa\", \"known_language\": \"eng\", \"translations\": {}}",
                  rules: rules ? "seed_pairs" : nil, input: "items"),
            .init(id: "3", strategy: "array", key: "seeds", idField: "seed_id", file: "output/lego_pairs.json",
                  template: "{\"course\": \"spa_for_eng\", \"phase\": \"3\", \"seeds\": []}", rules: rules ? "lego_pairs" : nil, input: "1"),
            .init(id: "5", strategy: "object", key: "baskets", file: "output/lego_baskets.json",
                  template: "{\"version\": \"1.0.0\", \"phase\": \"5\", \"course\": \"spa_for_eng\", \"baskets\": {}}",
                  expectIds: "any", rules: rules ? "lego_baskets" : nil, input: "3"),
        ]
    }

    /// `seeds.json`: `{"course", "seeds": [{"id", "known"}]}`.
    static func writeItems(seeds: [String], course: Course, into dir: String) throws {
        var out = "{\"course\": \"spa_for_eng\", \"seeds\": [\n"
        out += seeds.enumerated().map { i, id in "  {\"id\": \(jstr(id)), \"known\": \(jstr(course.known[id] ?? ""))}" }.joined(separator: ",\n")
        out += "\n]}\n"
        try Files.write(dir + "/seeds.json", out)
    }

    /// The three phases' answers for the seeds `ids`, as batch files.
    static func batchAnswers(ids: [String], course: Course) -> [(String, [UInt8])] {
        let wanted = Set(ids)
        let p1 = ids.compactMap { id in course.translations[id].map { (id: id, raw: $0) } }
        let p3 = course.pairs.filter { wanted.contains($0.id) }.map { (id: $0.id, raw: $0.raw) }
        let legos = Set(ids.flatMap { course.newLegos[$0] ?? [] })
        let p5 = course.baskets.filter { legos.contains($0.id) }.map { (id: $0.id, raw: $0.raw) }
        return [("1", containerText(key: "translations", object: true, items: p1)),
                ("3", containerText(key: "seeds", object: false, items: p3)),
                ("5", containerText(key: "baskets", object: true, items: p5))]
    }

    /// `--gen-demo DIR`: the demo's resources for the whole course, and a pipeline.json driven by
    /// `agent-watcher simulate-agent` with the demo's rule sets.
    static func write(into dir: String, fixtures: String?, scratch: String) throws {
        let course = try Course.load(fixtures: fixtures, scratch: scratch)
        Files.remove(scratch)
        let seeds = course.seedIDs
        try FileSystem.createDirectory(dir + "/answers")
        try FileSystem.createDirectory(dir + "/instructions")
        try writeItems(seeds: seeds, course: course, into: dir)
        let all = batchAnswers(ids: seeds, course: course)
        for (phase, bytes) in all { try Files.write(dir + "/answers/phase-\(phase).json", bytes) }
        for p in ["1", "3", "5"] {
            try Files.write(dir + "/instructions/phase\(p).md", "# Phase \(p)\n\nWrite the batch's items to the output path.\n")
        }
        let exe = (try? FileSystem.executablePath()).map { path -> String in
            guard let slash = path.lastIndex(of: "/") else { return "agent-watcher" }
            return String(path[..<slash]) + "/agent-watcher"
        } ?? "agent-watcher"
        var spec = SpecDef()
        spec.run = "spa_for_eng"
        spec.itemsFile = "seeds.json"
        spec.itemsKey = "seeds"
        spec.batchSize = 20
        spec.concurrency = 2
        spec.maxAttempts = 3
        spec.timeoutSeconds = 2
        spec.agent = [exe, "simulate-agent", "--answers", "answers/phase-{phase}.json", "--items", "seeds.json",
                      "--phase", "{phase}", "--batch", "{batch}", "--start", "{start}", "--end", "{end}",
                      "--attempt", "{attempt}", "--output", "{output}", "--seed", "42"]
        spec.phases = phases(rules: true)
        try Files.write(dir + "/pipeline.json", spec.json().replacingOccurrences(of: "\"prompt\": \"file\"", with: "\"prompt\": \"stdin\""))
        Out.line("wrote \(dir): \(seeds.count) seeds, pipeline.json (run it with: agent-watcher run --pipeline \(dir)/pipeline.json --root \(dir))")
    }
}
