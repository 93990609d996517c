import WatcherCore
import WatcherSystem

/// Everything `check` (and `run`, before it starts) finds wrong with pipeline specs, all at
/// once, each naming the file and the key: the spec's own problems (``SpecLoader``), the
/// items file, instruction files, files named in validator commands, agent and validator
/// programs (a path with '/' relative to the spec's folder, else searched in `$PATH` as
/// `posix_spawnp` does), output templates, and run names used by more than one spec.
/// Reads files; spawns nothing, writes nothing.
public enum SpecChecker {
    /// One spec's outcome: its run (when it loads) or its problems, one line each.
    public struct Report {
        public var path: String
        public var context: RunContext?
        public var problems: [String]
        public var isClean: Bool { problems.isEmpty }

        /// `<file>: ok (<run>: N phases, M items, K batches)`.
        public var summary: String? {
            guard isClean, let c = context else { return nil }
            return "\(path): ok (\(c.run): \(c.spec.phases.count) phases, \(c.itemIDs.count) items, \(c.plan.batchCount) batches)"
        }
    }

    /// File endings that make an argv element a file the command reads.
    static let scriptEndings = [".py", ".sh", ".js", ".mjs", ".ts", ".rb", ".pl", ".lua", ".json", ".jq", ".bash"]

    public static func check(_ paths: [String], searchPath: String?, rules: RuleRegistry) -> [Report] {
        var reports = paths.map { check($0, searchPath: searchPath, rules: rules) }
        var firstUse: [String: String] = [:]
        var responderUse: [String: String] = [:]
        for i in reports.indices {
            guard let ctx = reports[i].context else { continue }
            if let other = firstUse[ctx.run] {
                reports[i].problems.append("\(reports[i].path): run: \"\(ctx.run)\" is already the run of \(other)")
            } else {
                firstUse[ctx.run] = reports[i].path
            }
            // A responder answers `agents/<name>/` of the whole root: one name, one responder.
            for (j, r) in ctx.spec.responders.enumerated() {
                if let other = responderUse[r.name] {
                    reports[i].problems.append("\(reports[i].path): responders[\(j)].name: \"\(r.name)\" is already a responder of \(other)")
                } else {
                    responderUse[r.name] = reports[i].path
                }
            }
        }
        return reports
    }

    static func check(_ path: String, searchPath: String?, rules: RuleRegistry) -> Report {
        let spec: PipelineSpec
        do { spec = try SpecLoader.load(path) } catch let e as SpecError {
            return Report(path: path, context: nil, problems: e.description.split(separator: "\n").map(String.init))
        } catch {
            return Report(path: path, context: nil, problems: ["\(path): \(error)"])
        }
        var problems: [String] = []
        func add(_ key: String, _ message: String) { problems.append("\(path): \(key): \(message)") }
        var context: RunContext?
        do { context = try RunContext(spec: spec, specPath: path, rules: rules) } catch let e as SpecError {
            problems += e.problems.map { "\(path): \($0)" }
        } catch {
            add("items.file", "\(error)")
        }
        let base = RunContext.folder(of: path)
        for (i, phase) in spec.phases.enumerated() {
            let at = "phases[\(i)]"
            if let file = phase.instructions {
                let resolved = RunContext.resolve(file, in: base)
                if !FileSystem.exists(resolved) { add("\(at).instructions", "no file \(resolved)") }
            }
            if let agent = spec.agent(for: phase) {
                let key = phase.agent?.argv != nil ? "\(at).agent.argv[0]" : "agent.argv[0]"
                if let problem = programProblem(agent.argv[0], base: base, searchPath: searchPath) { add(key, problem) }
            }
            for (j, v) in (phase.validators ?? []).enumerated() where !v.argv.isEmpty {
                let key = "\(at).validators[\(j)].argv"
                if let problem = programProblem(v.argv[0], base: base, searchPath: searchPath) { add("\(key)[0]", problem) }
                for (k, arg) in v.argv.enumerated().dropFirst() where looksLikeAFile(arg) {
                    let resolved = RunContext.resolve(arg, in: base)
                    if !FileSystem.exists(resolved) { add("\(key)[\(k)]", "no file \(resolved)") }
                }
            }
            if let template = phase.output.template, let problem = templateProblem(template, phase.output) {
                add("\(at).output.template", problem)
            }
        }
        for (i, r) in spec.responders.enumerated() {
            let at = "responders[\(i)]"
            if let file = r.instructions {
                let resolved = RunContext.resolve(file, in: base)
                if !FileSystem.exists(resolved) { add("\(at).instructions", "no file \(resolved)") }
            }
            if let program = r.argv.first, let problem = programProblem(program, base: base, searchPath: searchPath) {
                add("\(at).argv[0]", problem)
            }
        }
        // Problems of one agent block are reported once, not once per phase that uses it.
        var seen = Set<String>()
        problems = problems.filter { seen.insert($0).inserted }
        return Report(path: path, context: context, problems: problems)
    }

    /// A relative path to a file beside the spec: not a placeholder, not an option, and
    /// either a path with '/' or a name with a script's ending.
    static func looksLikeAFile(_ arg: String) -> Bool {
        guard !arg.contains("{"), !arg.hasPrefix("-"), !arg.hasPrefix("/"), !arg.contains("=") else { return false }
        return arg.contains("/") || scriptEndings.contains { arg.hasSuffix($0) }
    }

    /// Why `program` cannot be spawned, or nil. With '/' it is relative to the spec's folder;
    /// without, it is looked up in `searchPath` (`$PATH`), as `posix_spawnp` does.
    static func programProblem(_ program: String, base: String, searchPath: String?) -> String? {
        if program.isEmpty { return "expected a program, got an empty string" }
        if program.contains("{") { return nil } // filled in per attempt
        if program.contains("/") {
            let resolved = RunContext.resolve(program, in: base)
            if !FileSystem.exists(resolved) { return "no program \(resolved)" }
            return FileSystem.isExecutableFile(resolved) ? nil : "\(resolved) is not an executable file"
        }
        let folders = (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false)
        for folder in folders {
            let dir = folder.isEmpty ? base : String(folder)
            if FileSystem.isExecutableFile(RunContext.resolve(program, in: dir) ) { return nil }
        }
        return "no program \"\(program)\" on PATH (\(searchPath ?? "unset"))"
    }

    /// A template the main file cannot start from: not an object, or without the container.
    static func templateProblem(_ template: JSONTemplate, _ output: PipelineSpec.OutputSpec) -> String? {
        let value: JSONValue
        do { value = try JSONParser.parse(template.text) } catch { return "not valid JSON: \(error)" }
        if output.strategy == .jsonl { return "a jsonl main file has no template; leave it out" }
        let container: JSONValue
        if let key = output.key {
            guard value.objectValue != nil else { return "expected an object holding \"\(key)\", got \(value.kindDescription)" }
            guard let c = value[key] else { return "expected a member \"\(key)\" (the output's key)" }
            container = c
        } else {
            container = value
        }
        let wanted = output.strategy == .object ? "an object" : "an array"
        let fits = output.strategy == .object ? container.objectValue != nil : container.arrayValue != nil
        return fits ? nil : "expected the container (\(output.key.map { "\"\($0)\"" } ?? "the top level")) to be \(wanted) for the \(output.strategy.rawValue) strategy, got \(container.kindDescription)"
    }

    /// The prompt attempt 1 of a batch would get, as the daemon renders it, with the input
    /// items from the items file or the merged main files under `root`.
    public static func firstPrompt(_ context: RunContext, phase: String, batch: Int, root: String) throws -> String {
        guard context.phase(phase) != nil else {
            throw SpecError(path: context.specPath, problems: ["phases: no phase \"\(phase)\" (the phases are \(context.spec.phases.map(\.id).joined(separator: ", ")))"])
        }
        guard (1...max(1, context.plan.batchCount)).contains(batch), context.plan.batchCount > 0 else {
            throw SpecError(path: context.specPath, problems: ["batch \(batch): the run has batches 1 to \(context.plan.batchCount)"])
        }
        let launcher = AgentLauncher(layout: Layout(root: root), context: context)
        return try launcher.prompt(for: BatchID(run: context.run, phase: phase, index: batch), attempt: 1, previous: nil)
    }
}
