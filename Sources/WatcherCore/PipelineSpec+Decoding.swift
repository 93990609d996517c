extension PipelineSpec {
    static let topLevelKeys = ["version", "run", "items", "batchSize", "concurrency", "maxAttempts", "timeoutSeconds",
                               "killGraceSeconds", "settleMilliseconds", "maxFileBytes", "backoff", "transientBackoff",
                               "circuitBreaker", "agent", "agentsOnRestart", "phases", "prices", "budget", "reconcileSeconds", "order", "responders"]
    static let priceKeys = ["input", "output", "cacheRead", "cacheWrite"]
    static let budgetKeys = ["maxCostUSD", "maxTokens"]
    static let itemsKeys = ["file", "key", "idField"]
    static let backoffKeys = ["initialSeconds", "multiplier", "maxSeconds"]
    static let circuitBreakerKeys = ["consecutiveFailures"]
    static let agentKeys = ["argv", "prompt", "env", "transient", "output", "runner", "slurm"]
    static let slurmKeys = ["partition", "account", "time", "cpus", "mem", "extra"]
    static let transientKeys = ["exitCodes", "patterns"]
    static let phaseKeys = ["id", "name", "instructions", "input", "output", "expectIds", "rules", "validators", "agent",
                            "timeoutSeconds", "maxAttempts"]
    static let outputKeys = ["file", "strategy", "key", "idField", "template"]
    static let validatorKeys = ["argv", "timeoutSeconds"]

    /// Reads a spec file's bytes with the project's JSON parser and reports every problem at
    /// once, each with its key path and line and column: JSON syntax, wrong types, missing
    /// and unknown keys (with the nearest known key), and the value checks of
    /// ``checkProblems()``. A value check is left out for a key whose shape is already reported.
    public static func decode(_ bytes: [UInt8]) -> Result<PipelineSpec, SpecProblems> {
        let tree: JSONValue
        do { tree = try JSONParser.parse(bytes) } catch {
            return .failure(SpecProblems([SpecProblem(key: "", message: "not valid JSON: \(error)")]))
        }
        var reader = SpecReader(positions: JSONKeyPositions(bytes))
        let spec = decode(tree, &reader)
        let shape = reader.problems
        // A value check of a key that could not be read (or holds one that could not) would
        // only repeat the shape problem, about a stand-in value.
        let values = spec.checkProblems().filter { p in !shape.contains { p.isInside($0.key) || $0.isInside(p.key) } }
            .map { SpecProblem(key: $0.key, message: $0.message, position: reader.positions.nearestPosition(of: $0.key)) }
        let all = shape + values
        return all.isEmpty ? .success(spec) : .failure(SpecProblems(all))
    }

    /// The spec with every member that could be read; what could not is reported and left at
    /// its default (or empty, for required keys).
    static func decode(_ tree: JSONValue, _ r: inout SpecReader) -> PipelineSpec {
        var spec = PipelineSpec(run: "", items: ItemSource(file: ""), phases: [])
        guard let top = r.object(tree, at: "", keys: topLevelKeys) else { return spec }
        spec.version = r.int(top, "version") ?? spec.version
        spec.run = r.string(top, "run", required: true) ?? spec.run
        if let items = r.member(top, "items", required: true, expected: "an object", { $0 }),
           let o = r.object(items, at: "items", keys: itemsKeys) {
            spec.items = ItemSource(file: r.string(o, "file", required: true) ?? "", key: r.string(o, "key"),
                                    idField: r.string(o, "idField"))
        }
        spec.batchSize = r.int(top, "batchSize") ?? spec.batchSize
        spec.concurrency = r.int(top, "concurrency") ?? spec.concurrency
        spec.maxAttempts = r.int(top, "maxAttempts") ?? spec.maxAttempts
        spec.timeoutSeconds = r.double(top, "timeoutSeconds") ?? spec.timeoutSeconds
        spec.killGraceSeconds = r.double(top, "killGraceSeconds") ?? spec.killGraceSeconds
        spec.settleMilliseconds = r.int(top, "settleMilliseconds") ?? spec.settleMilliseconds
        spec.maxFileBytes = r.int(top, "maxFileBytes") ?? spec.maxFileBytes
        spec.backoff = backoff(top, "backoff", default: spec.backoff, &r)
        spec.transientBackoff = backoff(top, "transientBackoff", default: spec.transientBackoff, &r)
        if let v = top["circuitBreaker"], !v.isNull, let o = r.object(v, at: "circuitBreaker", keys: circuitBreakerKeys) {
            spec.circuitBreaker.consecutiveFailures = r.int(o, "consecutiveFailures") ?? spec.circuitBreaker.consecutiveFailures
        }
        spec.agent = agent(top, "agent", &r)
        spec.agentsOnRestart = r.oneOf(top, "agentsOnRestart") ?? spec.agentsOnRestart
        spec.reconcileSeconds = r.double(top, "reconcileSeconds")
        spec.order = r.oneOf(top, "order") ?? spec.order
        spec.phases = r.array(top, "phases", required: true) { r, value, path in phase(value, at: path, &r) } ?? []
        if let members = r.member(top, "prices", expected: "an object of models", { $0.objectValue }) {
            for m in members {
                guard let o = r.object(m.value, at: top.path("prices") + "." + m.key, keys: priceKeys) else { continue }
                guard let input = r.double(o, "input"), let output = r.double(o, "output") else {
                    if o["input"] == nil { r.report(o.path("input"), "missing; this key is required") }
                    if o["output"] == nil { r.report(o.path("output"), "missing; this key is required") }
                    continue
                }
                spec.prices[m.key] = Price(input: input, output: output, cacheRead: r.double(o, "cacheRead") ?? 0,
                                           cacheWrite: r.double(o, "cacheWrite") ?? 0)
            }
        }
        if let v = top["budget"], !v.isNull, let o = r.object(v, at: "budget", keys: budgetKeys) {
            spec.budget = Budget(maxCostUSD: r.double(o, "maxCostUSD"), maxTokens: r.int(o, "maxTokens"))
        }
        spec.responders = r.array(top, "responders") { r, value, path in ResponderSpec.decode(value, at: path, &r) } ?? []
        return spec
    }

    static func backoff(_ parent: SpecReader.Object, _ key: String, default d: Backoff, _ r: inout SpecReader) -> Backoff {
        guard let v = parent[key], !v.isNull, let o = r.object(v, at: parent.path(key), keys: backoffKeys) else { return d }
        return Backoff(initialSeconds: r.double(o, "initialSeconds") ?? d.initialSeconds,
                       multiplier: r.double(o, "multiplier") ?? d.multiplier,
                       maxSeconds: r.double(o, "maxSeconds") ?? d.maxSeconds)
    }

    static func agent(_ parent: SpecReader.Object, _ key: String, _ r: inout SpecReader) -> AgentSpec? {
        guard let v = parent[key], !v.isNull, let o = r.object(v, at: parent.path(key), keys: agentKeys) else { return nil }
        // An argv that is there but unreadable (reported) stands in as [""], so that no phase
        // also reports "no agent command".
        let argv = r.strings(o, "argv") ?? (o["argv"].map { $0.isNull ? nil : [""] } ?? nil)
        var agent = AgentSpec(argv: argv, prompt: r.oneOf(o, "prompt"), env: r.stringMap(o, "env"),
                              output: r.oneOf(o, "output"), runner: r.oneOf(o, "runner"))
        if let v = o["slurm"], !v.isNull, let so = r.object(v, at: o.path("slurm"), keys: slurmKeys) {
            agent.slurm = SlurmSettings(partition: r.string(so, "partition"), account: r.string(so, "account"),
                                        time: r.string(so, "time"), cpus: r.int(so, "cpus"), mem: r.string(so, "mem"),
                                        extra: r.strings(so, "extra") ?? [])
        }
        if let t = o["transient"], !t.isNull, let to = r.object(t, at: o.path("transient"), keys: transientKeys) {
            agent.transient = Transient(exitCodes: r.ints(to, "exitCodes") ?? [],
                                        patterns: r.strings(to, "patterns") ?? Transient.defaultPatterns)
        }
        return agent
    }

    static func phase(_ value: JSONValue, at path: String, _ r: inout SpecReader) -> PhaseSpec? {
        guard let o = r.object(value, at: path, keys: phaseKeys) else { return nil }
        let id = r.string(o, "id", required: true)
        var output: OutputSpec?
        if let v = r.member(o, "output", required: true, expected: "an object", { $0 }),
           let oo = r.object(v, at: o.path("output"), keys: outputKeys) {
            let file = r.string(oo, "file", required: true)
            let strategy: MergeStrategy? = r.oneOf(oo, "strategy", required: true)
            // What could not be read gets a stand-in whose value checks are left out (see `decode`).
            output = OutputSpec(file: file ?? "", strategy: strategy ?? .object, key: r.string(oo, "key"),
                                idField: r.string(oo, "idField"),
                                template: oo["template"].map { JSONTemplate(text: $0.serialized()) })
        }
        var phase = PhaseSpec(id: id ?? "", output: output ?? OutputSpec(file: "", strategy: .object))
        phase.name = r.string(o, "name")
        phase.instructions = r.string(o, "instructions")
        phase.input = r.member(o, "input", expected: "a string") { $0.stringValue ?? $0.intValue.map(String.init) }
        phase.expectIds = r.oneOf(o, "expectIds")
        phase.rules = r.string(o, "rules")
        phase.validators = r.array(o, "validators") { r, value, path in
            guard let vo = r.object(value, at: path, keys: validatorKeys) else { return nil }
            return ValidatorSpec(argv: r.strings(vo, "argv", required: true) ?? [""], timeoutSeconds: r.double(vo, "timeoutSeconds"))
        }
        phase.agent = agent(o, "agent", &r)
        phase.timeoutSeconds = r.double(o, "timeoutSeconds")
        phase.maxAttempts = r.int(o, "maxAttempts")
        return phase
    }
}
