import Foundation
import AgentWatcher
import WatcherCore
import WatcherSystem

/// `agent-watcher demo`: the three-phase course pipeline over the first 100 seeds of the
/// spa_for_eng course, driven by the simulated agent, in a fresh root folder.
public struct Demo {
    public var root: String
    public var seed: UInt64
    public var quiet: Bool

    public init(root: String?, seed: UInt64, quiet: Bool) {
        if let root {
            self.root = root
        } else {
            let (s, _) = Clock.realtime()
            let stamp = Clock.iso8601(seconds: s, microseconds: 0).prefix(19)
                .replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
            let tmp = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
            self.root = "\(tmp)/agent-watcher-demo-\(stamp)-\(getpid())"
        }
        self.seed = seed
        self.quiet = quiet
    }

    /// Copies the embedded course data and writes `pipeline.json` into the root.
    public func prepare() throws -> String {
        guard let resources = Bundle.module.url(forResource: "demo", withExtension: nil)?.path else {
            throw DemoDataMissing()
        }
        try FileSystem.createDirectory(root + "/answers")
        try FileSystem.createDirectory(root + "/instructions")
        for name in ["seeds.json", "answers/phase-1.json", "answers/phase-3.json", "answers/phase-5.json",
                     "instructions/phase1.md", "instructions/phase3.md", "instructions/phase5.md"] {
            try AtomicFile.replace(root + "/" + name, with: try FileSystem.readFile(resources + "/" + name))
        }
        let template = String(decoding: try FileSystem.readFile(resources + "/pipeline.json"), as: UTF8.self)
        let spec = template.replacingOccurrences(of: "@AGENT_WATCHER@", with: try FileSystem.executablePath())
            .replacingOccurrences(of: "@SEED@", with: String(seed))
        let path = root + "/pipeline.json"
        try AtomicFile.replace(path, with: Array(spec.utf8))
        return path
    }

    public func run() throws -> Int32 {
        let specPath = try prepare()
        let started = Clock.monotonicNanoseconds()
        var options = Daemon.Options(root: root, pipelines: [specPath], rules: DemoCourse.rules)
        options.exitWhenComplete = true
        let daemon = try Daemon(options: options)
        if !quiet {
            Console.out("agent-watcher demo: 3 phases × 5 batches of 20 seeds, concurrency 2, simulated agents (seed \(seed))")
            Console.out("root: \(root)")
            Console.out(EventFormatter.legend + "\n")
            daemon.observer = { r in if let line = Demo.interesting(r) { Console.out(line) } }
        }
        let outcome = try daemon.run()
        let seconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
        let records = try EventLogReader.read(daemon.layout.eventLog).records
        Console.out(try summary(records: records, seconds: seconds, specPath: specPath))
        return outcome == .completed ? 0 : 1
    }

    /// The lines worth a person's attention: retries, failures, timeouts, merges, the end.
    static func interesting(_ r: EventRecord) -> String? { EventFormatter.attention(r) ?? turnLine(r) }

    /// The reviewer's answers, failures and stuck threads, one line each.
    static func turnLine(_ r: EventRecord) -> String? {
        let e = r.event
        let time = r.ts.count >= 23 ? String(r.ts.dropFirst(11).prefix(12)) : r.ts
        let who = e.string("responder") ?? e.to ?? "?", message = e.string("message") ?? "?"
        switch (e.event, e.to) {
        case (EventName.turnTransition, Turn.State.replied.rawValue?):
            return "\(time)  \(who) answered \(message) from \(e.string("sender") ?? "?") (thread \(e.string("thread") ?? "?"), turn \(e.int("turn") ?? 0))"
        case (EventName.turnTransition, Turn.State.failed.rawValue?):
            return "\(time)  \(who) could not answer \(message): \(e.reason ?? "?")"
        case (EventName.threadStuck, _):
            return "\(time)  thread \(e.string("thread") ?? "?") is stuck: \(e.int("turns") ?? 0) turns (maxTurnsPerThread), "
                + "\(e.from ?? "?") was told so"
        default:
            return nil
        }
    }

    func summary(records: [EventRecord], seconds: Double, specPath: String) throws -> String {
        let status = StatusReport.build(records)
        var merged = 0, failed = 0, blocked = 0, total = 0
        var failedNames: [String] = [], blockedNames: [String] = []
        for r in records where r.event.event == EventName.transition {
            guard let id = r.event.batchID else { continue }
            if r.event.to == "failed" { failedNames.append("phase \(id.phase) batch \(id.index)") }
            if r.event.to == "blocked" { blockedNames.append("phase \(id.phase) batch \(id.index)") }
        }
        for row in status.runs {
            for p in row.phases {
                merged += p.count(.merged); failed += p.count(.failed); blocked += p.count(.blocked); total += p.total
            }
        }
        let retries = Demo.retries(records)
        let spec = try SpecLoader.load(specPath)
        let check = try compareWithCourse(spec: spec)
        let doomed = SimulatedAgent.doomedBatch(seed: seed)
        var s = "\nDemo finished in \(String(format: "%.1f", seconds)) s: \(merged) of \(total) batches merged, "
        s += "\(retries.count) \(retries.count == 1 ? "retry" : "retries") (in \(retries.batches) batches), "
        s += "\(failed) failed\(failedNames.isEmpty ? "" : " (" + failedNames.joined(separator: ", ") + ")"), "
        s += "\(blocked) blocked\(blockedNames.isEmpty ? "" : " (" + blockedNames.joined(separator: ", ") + ")").\n"
        s += check
        s += Demo.threadsLine(records, root: root)
        if failed > 0 {
            s += "  Phase \(doomed.phase) batch \(doomed.batch) is the seeded flaw (seed \(seed)): its simulated agent breaks an item on\n"
            s += "  every attempt, so it failed after its last attempt and the batches that need it are blocked:\n"
            s += "  see `\(Invocation.command) show \(spec.run) \(doomed.phase) \(doomed.batch) --root \(root)`.\n"
        }
        let outputs = spec.phases.map { root + "/" + $0.output.file }.filter { FileSystem.exists($0) }
        s += "  outputs:    " + outputs.joined(separator: "\n              ") + "\n"
        s += "  event log:  \(root)/logs/events.jsonl   (\(Invocation.command) tail --root \(root))\n"
        s += "  agent logs: \(root)/logs/agents/\(spec.run)/\n"
        s += "  rejected:   \(root)/mailbox/\(spec.run)/rejected/ (each failed attempt's file and its errors)"
        return s
    }

    /// The summary's line about the reviewer's threads.
    static func threadsLine(_ records: [EventRecord], root: String) -> String {
        let turns = TurnSummary.build(records)
        guard !turns.threads.isEmpty else { return "" }
        let all = turns.threads.flatMap(\.turns)
        let count = { (state: Turn.State) in all.filter { $0.state == state.rawValue }.count }
        var s = "  Threads: \(turns.threads.count) with the reviewer (asked with send --wait by phase-3 agents), "
            + "\(count(.replied)) turns answered, \(count(.failed)) failed, \(turns.threads.filter(\.stuck).count) stuck"
        let stuck = turns.threads.filter(\.stuck).map { "\($0.thread): turn limit reached; see \(root)/logs/stuck/\($0.thread).md" }
        if !stuck.isEmpty { s += " (" + stuck.joined(separator: "; ") + ")" }
        return s + "\n"
    }

    /// The retries of a log: attempts started after a failed one (`retry_wait → spawning`), and
    /// how many batches had any. The stream shows each as a `retry_wait → spawning` line.
    public static func retries(_ records: [EventRecord]) -> (count: Int, batches: Int) {
        var count = 0
        var batches: Set<BatchID> = []
        for r in records where r.event.event == EventName.transition && r.event.from == "retry_wait" && r.event.to == "spawning" {
            count += 1
            if let id = r.event.batchID { batches.insert(id) }
        }
        return (count, batches.count)
    }

    /// One repaired item: which batch, on which attempt, and what was done.
    public struct Repaired: Equatable, Sendable {
        public var phase: String, batch: Int, attempt: Int, item: String, what: String
    }

    /// Compares every merged item with the course data it came from, or, for an item the
    /// validator's errors named in a rejected attempt (`rejected/*.errors.json`), with the course
    /// item repaired as ``Repairs`` does for those errors. `repaired` collects the latter.
    func compareWithCourse(spec: PipelineSpec) throws -> String {
        var repaired: [Repaired] = []
        return try compareWithCourse(spec: spec, repaired: &repaired)
    }

    public func compareWithCourse(spec: PipelineSpec, repaired: inout [Repaired]) throws -> String {
        var s = ""
        var lines: [String] = []
        for phase in spec.phases {
            let main = root + "/" + phase.output.file
            guard FileSystem.exists(main) else { s += "  phase \(phase.id): nothing merged\n"; continue }
            let mainItems = try RunContext.scanItems(try FileSystem.readFile(main), key: phase.output.key, idField: phase.output.idField)
            let answers = try FileSystem.readFile(root + "/answers/phase-\(phase.id).json")
            let expected = try RunContext.scanItems(answers, key: phase.output.key, idField: phase.output.idField)
            let byID = Dictionary(expected.map { ($0.id, $0.raw) }, uniquingKeysWith: { a, _ in a })
            let named = try namedErrors(run: spec.run, phase: phase.id)
            let inputSeeds = try phase.input.flatMap { $0 == "items" ? nil : $0 }.map { try mergedValues(spec: spec, phaseID: $0) } ?? []
            var equal = 0, fixed = 0, differ: [String] = []
            var ordered = true
            var lastPosition = -1
            let position = Dictionary(expected.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { a, _ in a })
            for item in mainItems {
                let value = try JSONParser.parse(item.raw)
                let course = try byID[item.id].map { try JSONParser.parse($0) }
                if let course, course == value {
                    equal += 1
                } else if let n = named[item.id],
                          let want = Repairs.repair(course, id: item.id, errors: n.errors, inputSeeds: inputSeeds), want == value {
                    fixed += 1
                    repaired.append(Repaired(phase: phase.id, batch: n.batch, attempt: n.attempt + 1, item: item.id,
                                             what: Repairs.describe(original: course, repaired: value)))
                } else {
                    differ.append(item.id)
                }
                guard let p = position[item.id] else { continue }
                if p < lastPosition { ordered = false }
                lastPosition = p
            }
            s += "  phase \(phase.id) (\(phase.name ?? "")): \(mainItems.count) items merged: \(equal) equal the course data"
            if fixed > 0 { s += ", \(fixed) equal it plus the repair their errors called for" }
            if !differ.isEmpty { s += ", \(differ.count) DIFFER (\(differ.prefix(5).joined(separator: ", ")))" }
            s += ordered ? "; in course order\n" : "; NOT in course order\n"
        }
        // One line per batch, attempt and kind of repair.
        var groups: [(key: String, items: [String])] = []
        for r in repaired {
            let kind = r.what.hasPrefix("added LEGO") ? r.what : r.what
            let key = "phase \(r.phase) batch \(r.batch), attempt \(r.attempt): " + (kind.hasPrefix("added LEGO") ? "" : kind + ": ")
            if kind.hasPrefix("added LEGO") {
                groups.append((key + r.item + " " + kind, []))
            } else if let i = groups.firstIndex(where: { $0.key == key }) {
                groups[i].items.append(r.item)
            } else {
                groups.append((key, [r.item]))
            }
        }
        for g in groups {
            lines.append("    " + g.key + g.items.prefix(8).joined(separator: ", ") + (g.items.count > 8 ? ", … (\(g.items.count) baskets)" : ""))
        }
        if !lines.isEmpty {
            s += "  Repaired by the agent from the validator's errors in its retry prompt (\(repaired.count) items):\n"
            s += lines.joined(separator: "\n") + "\n"
        }
        return s
    }

    /// Per item id, the repairable errors that named it in the phase's rejected attempts, with
    /// the batch and the (last) attempt they were found in.
    func namedErrors(run: String, phase: String) throws -> [String: (errors: [Repairs.NamedError], batch: Int, attempt: Int)] {
        let dir = root + "/mailbox/\(run)/rejected"
        var result: [String: (errors: [Repairs.NamedError], batch: Int, attempt: Int)] = [:]
        guard FileSystem.exists(dir) else { return result }
        let prefix = "\(phase)_batch_"
        for name in try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        where name.hasPrefix(prefix) && name.hasSuffix(".errors.json") {
            let parts = name.dropFirst(prefix.count).dropLast(".errors.json".count).split(separator: ".")
            guard parts.count == 2, let batch = Int(parts[0]), parts[1].hasPrefix("attempt-"),
                  let attempt = Int(parts[1].dropFirst("attempt-".count)) else { continue }
            let report = try JSONParser.parse(try FileSystem.readFile(dir + "/" + name))
            for e in report["errors"]?.arrayValue ?? [] {
                guard let item = e["item"]?.stringValue, let type = e["type"]?.stringValue,
                      Repairs.repairable.contains(type) else { continue }
                let error = Repairs.NamedError(item: item, type: type, message: e["message"]?.stringValue ?? "")
                var entry = result[item] ?? ([], batch, attempt)
                if !entry.errors.contains(error) { entry.errors.append(error) }
                entry.attempt = max(entry.attempt, attempt)
                result[item] = entry
            }
        }
        return result
    }

    /// The merged items of a phase, as values (phase 5's input seeds).
    func mergedValues(spec: PipelineSpec, phaseID: String) throws -> [JSONValue] {
        guard let phase = spec.phases.first(where: { $0.id == phaseID }) else { return [] }
        let path = root + "/" + phase.output.file
        guard FileSystem.exists(path) else { return [] }
        return try RunContext.scanItems(try FileSystem.readFile(path), key: phase.output.key, idField: phase.output.idField)
            .map { try JSONParser.parse($0.raw) }
    }
}

/// The build lacks the demo's embedded data (the DemoCourse bundle's `demo` folder).
struct DemoDataMissing: Error, CustomStringConvertible {
    var description: String { "demo: the embedded demo data is missing from the build (Bundle.module/demo)" }
}
