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
            Console.out("root: \(root)\n")
            daemon.observer = { r in if let line = Demo.interesting(r) { Console.out(line) } }
        }
        let outcome = try daemon.run()
        let seconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
        let records = try EventLogReader.read(daemon.layout.eventLog).records
        Console.out(try summary(records: records, seconds: seconds, specPath: specPath))
        return outcome == .completed ? 0 : 1
    }

    /// The lines worth a person's attention: retries, failures, timeouts, merges, the end.
    static func interesting(_ r: EventRecord) -> String? { EventFormatter.attention(r) }

    func summary(records: [EventRecord], seconds: Double, specPath: String) throws -> String {
        let status = StatusReport.build(records)
        var merged = 0, failed = 0, blocked = 0
        var failedNames: [String] = []
        for r in records where r.event.event == EventName.transition {
            if r.event.to == "failed", let id = r.event.batchID { failedNames.append("phase \(id.phase) batch \(id.index)") }
        }
        for row in status.runs { for p in row.phases { merged += p.count(.merged); failed += p.count(.failed); blocked += p.count(.blocked) } }
        let retried = Set(records.compactMap { r -> BatchID? in
            r.event.event == EventName.transition && r.event.to == "retry_wait" ? r.event.batchID : nil }).count
        let spec = try SpecLoader.load(specPath)
        let check = try compareWithCourse(spec: spec)
        var s = "\nDemo finished in \(String(format: "%.1f", seconds)) s: \(merged) batches merged, \(retried) retried, "
        s += "\(failed) failed\(failedNames.isEmpty ? "" : " (" + failedNames.joined(separator: ", ") + ")"), \(blocked) blocked.\n"
        s += check
        if failed > 0 {
            s += "  The failed batches hold defects of the real course data that no faithful retry can fix\n"
            s += "  (S0003's misspelt target; practice baskets with no phrase): see `\(Invocation.command) show \(spec.run) 5 2 --root \(root)`.\n"
        }
        let outputs = spec.phases.map { root + "/" + $0.output.file }.filter { FileSystem.exists($0) }
        s += "  outputs:    " + outputs.joined(separator: "\n              ") + "\n"
        s += "  event log:  \(root)/logs/events.jsonl   (\(Invocation.command) tail --root \(root))\n"
        s += "  agent logs: \(root)/logs/agents/\(spec.run)/\n"
        s += "  rejected:   \(root)/mailbox/\(spec.run)/rejected/ (each failed attempt's file and its errors)"
        return s
    }

    /// Compares every merged item with the course data it came from.
    func compareWithCourse(spec: PipelineSpec) throws -> String {
        var s = ""
        for phase in spec.phases {
            let main = root + "/" + phase.output.file
            guard FileSystem.exists(main) else { s += "  phase \(phase.id): nothing merged\n"; continue }
            let mainItems = try RunContext.scanItems(try FileSystem.readFile(main), key: phase.output.key, idField: phase.output.idField)
            let answers = try FileSystem.readFile(root + "/answers/phase-\(phase.id).json")
            let expected = try RunContext.scanItems(answers, key: phase.output.key, idField: phase.output.idField)
            let byID = Dictionary(expected.map { ($0.id, $0.raw) }, uniquingKeysWith: { a, _ in a })
            var equal = 0
            var ordered = true
            var lastPosition = -1
            let position = Dictionary(expected.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { a, _ in a })
            for item in mainItems {
                if let raw = byID[item.id], try JSONParser.parse(raw) == JSONParser.parse(item.raw) { equal += 1 }
                let p = position[item.id] ?? -1
                if p < lastPosition { ordered = false }
                lastPosition = p
            }
            s += "  phase \(phase.id) (\(phase.name ?? "")): \(equal) of \(mainItems.count) merged items equal the course data"
            s += ordered ? ", in course order\n" : ", NOT in course order\n"
        }
        return s
    }
}

/// The build lacks the demo's embedded data (the DemoCourse bundle's `demo` folder).
struct DemoDataMissing: Error, CustomStringConvertible {
    var description: String { "demo: the embedded demo data is missing from the build (Bundle.module/demo)" }
}
