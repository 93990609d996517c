extension PipelineSpec {
    /// What is wrong with the spec beyond its JSON shape, each as `key: what was expected`.
    public func problems() -> [String] { checkProblems().map(\.summary) }

    /// What is wrong with the spec beyond its JSON shape, in key order (no positions: see
    /// ``decode(_:)`` for those).
    public func checkProblems() -> [SpecProblem] {
        var out: [SpecProblem] = []
        func add(_ key: String, _ message: String) { out.append(SpecProblem(key: key, message: message)) }
        if let p = PlainName.check(run) { add("run", "expected a plain name, got \"\(run)\": it \(p)") }
        if version != 1 { add("version", "expected 1, got \(version)") }
        if batchSize < 1 { add("batchSize", "expected a whole number ≥ 1, got \(batchSize)") }
        if concurrency < 1 { add("concurrency", "expected a whole number ≥ 1, got \(concurrency)") }
        if maxAttempts < 1 { add("maxAttempts", "expected a whole number ≥ 1, got \(maxAttempts)") }
        if !(timeoutSeconds > 0) { add("timeoutSeconds", "expected a number > 0, got \(timeoutSeconds)") }
        if settleMilliseconds < 0 { add("settleMilliseconds", "expected ≥ 0, got \(settleMilliseconds)") }
        if maxFileBytes < 1 { add("maxFileBytes", "expected ≥ 1, got \(maxFileBytes)") }
        if items.file.isEmpty { add("items.file", "expected the path of the run's items file") }
        for (key, b) in [("backoff", backoff), ("transientBackoff", transientBackoff)] {
            if !(b.initialSeconds >= 0) { add("\(key).initialSeconds", "expected a number ≥ 0, got \(b.initialSeconds)") }
            if !(b.multiplier >= 1) { add("\(key).multiplier", "expected a number ≥ 1, got \(b.multiplier)") }
            if !(b.maxSeconds >= 0) { add("\(key).maxSeconds", "expected a number ≥ 0, got \(b.maxSeconds)") }
        }
        if circuitBreaker.consecutiveFailures < 0 {
            add("circuitBreaker.consecutiveFailures", "expected a whole number ≥ 0 (0 disables it), got \(circuitBreaker.consecutiveFailures)")
        }
        if phases.isEmpty { add("phases", "expected at least one phase") }
        if let r = reconcileSeconds, !(r >= 0) { add("reconcileSeconds", "expected a number ≥ 0 (0: never), got \(r)") }
        for (model, p) in prices.sorted(by: { $0.key < $1.key }) {
            for (k, v) in [("input", p.input), ("output", p.output), ("cacheRead", p.cacheRead), ("cacheWrite", p.cacheWrite)]
            where !(v >= 0) { add("prices.\(model).\(k)", "expected a number ≥ 0 (USD per million tokens), got \(v)") }
        }
        if let c = budget?.maxCostUSD, !(c >= 0) { add("budget.maxCostUSD", "expected a number ≥ 0, got \(c)") }
        if let t = budget?.maxTokens, t < 0 { add("budget.maxTokens", "expected a whole number ≥ 0, got \(t)") }
        if budget?.maxCostUSD == nil {
            let uses = [("agent.argv", agent?.argv)] + phases.enumerated().map { ("phases[\($0.offset)].agent.argv", $0.element.agent?.argv) }
            for (key, argv) in uses where argv?.contains(where: { $0.contains("{budget_usd}") }) == true {
                add(key, "{budget_usd} needs budget.maxCostUSD (the budget left per batch is computed from it)")
            }
        }
        if let agent { out += Self.agentProblems(agent, at: "agent", argvHint: " (the program and its arguments)") }
        var seen: [String] = []
        for (i, p) in phases.enumerated() {
            let at = "phases[\(i)]"
            if let problem = PlainName.check(p.id) { add("\(at).id", "expected a plain name, got \"\(p.id)\": it \(problem)") }
            if seen.contains(p.id) { add("\(at).id", "\"\(p.id)\" is used by an earlier phase") }
            if let input = p.input, input != "items", !seen.contains(input) {
                add("\(at).input", "expected \"items\" or the id of an earlier phase, got \"\(input)\"")
            }
            seen.append(p.id)
            if p.agent?.argv == nil && agent?.argv == nil { add("\(at).agent", "no agent command here nor at the top level") }
            if let a = p.agent { out += Self.agentProblems(a, at: "\(at).agent", argvHint: "") }
            if p.output.file.isEmpty { add("\(at).output.file", "expected the path of the phase's main output file") }
            if !p.output.file.isEmpty, let j = phases[..<i].firstIndex(where: { $0.output.file == p.output.file }) {
                add("\(at).output.file", "\"\(p.output.file)\" is phases[\(j)]'s main file too; each phase needs a main file of its own")
            }
            if p.output.strategy != .object && (p.output.idField ?? "").isEmpty {
                add("\(at).output.idField", "the \(p.output.strategy.rawValue) strategy needs the member that holds each item's id")
            }
            if p.output.strategy == .jsonl && p.output.key != nil {
                add("\(at).output.key", "a jsonl file has no top-level key; leave it out")
            }
            for (j, v) in (p.validators ?? []).enumerated() where v.argv.isEmpty {
                add("\(at).validators[\(j)].argv", "expected a non-empty array")
            }
        }
        out += ResponderSpec.checkProblems(responders)
        return out
    }

    /// The placeholders an agent's argv may hold.
    public static let agentPlaceholders = ["prompt_file", "output", "run", "phase", "batch", "start", "end", "attempt", "budget_usd"]

    /// `{name}` with a name no placeholder has, or a `{name` never closed, in one argv element.
    /// Braces around anything but a lowercase name (JSON, say) are left as they are.
    static func placeholderProblem(_ arg: String) -> String? {
        var rest = Substring(arg)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            let name = after.prefix { ($0 >= "a" && $0 <= "z") || $0 == "_" }
            let end = after.dropFirst(name.count)
            if !name.isEmpty {
                if end.first == "}" {
                    if !agentPlaceholders.contains(String(name)) {
                        return "unknown placeholder {\(name)}; the placeholders are " + agentPlaceholders.map { "{\($0)}" }.joined(separator: ", ")
                    }
                } else if end.isEmpty {
                    return "placeholder {\(name) is not closed: add }"
                }
            }
            rest = after
        }
        return nil
    }

    static func agentProblems(_ agent: AgentSpec, at key: String, argvHint: String) -> [SpecProblem] {
        var out: [SpecProblem] = []
        if let argv = agent.argv, argv.isEmpty {
            out.append(SpecProblem(key: "\(key).argv", message: "expected a non-empty array\(argvHint)"))
        }
        for (j, arg) in (agent.argv ?? []).enumerated() {
            if let problem = Self.placeholderProblem(arg) { out.append(SpecProblem(key: "\(key).argv[\(j)]", message: problem)) }
        }
        for (j, pattern) in (agent.transient?.patterns ?? []).enumerated() {
            do { _ = try Regex(pattern) } catch {
                out.append(SpecProblem(key: "\(key).transient.patterns[\(j)]",
                                       message: "not a valid regular expression: \(error)"))
            }
        }
        for (j, code) in (agent.transient?.exitCodes ?? []).enumerated() where !(1...255).contains(code) {
            out.append(SpecProblem(key: "\(key).transient.exitCodes[\(j)]", message: "expected an exit code from 1 to 255, got \(code)"))
        }
        if let s = agent.slurm {
            if agent.runner != .slurm {
                out.append(SpecProblem(key: "\(key).slurm", message: "slurm settings need \"runner\": \"slurm\" in the same agent block"))
            }
            if let c = s.cpus, c < 1 { out.append(SpecProblem(key: "\(key).slurm.cpus", message: "expected a whole number ≥ 1, got \(c)")) }
            for (j, e) in s.extra.enumerated() where !e.hasPrefix("-") {
                out.append(SpecProblem(key: "\(key).slurm.extra[\(j)]", message: "expected an srun option (starting with -), got \"\(e)\""))
            }
        }
        return out
    }

    /// The agent of a phase: the phase's `agent` block merged over the top-level one. `argv`
    /// is the phase's when it gives one; `env` is merged key by key (the phase's values win);
    /// `prompt` and `transient` are the phase's when set, else the run's, else the defaults
    /// (`stdin`; ``Transient/init(exitCodes:patterns:)``). Nil when neither gives an argv.
    public func agent(for phase: PhaseSpec) -> ResolvedAgent? {
        let own = phase.agent
        guard let argv = own?.argv ?? agent?.argv, !argv.isEmpty else { return nil }
        let runner = own?.runner ?? agent?.runner ?? .local
        var transient = own?.transient ?? agent?.transient ?? Transient()
        // Slurm's verdicts that are not the batch's fault (preemption, node failure) are transient.
        if runner == .slurm { transient.patterns += SlurmStep.transientPatterns }
        return ResolvedAgent(
            argv: argv,
            prompt: own?.prompt ?? agent?.prompt ?? .stdin,
            env: (agent?.env ?? [:]).merging(own?.env ?? [:]) { _, phaseValue in phaseValue },
            transient: transient,
            output: own?.output ?? agent?.output ?? .text,
            runner: runner,
            slurm: own?.slurm ?? agent?.slurm ?? SlurmSettings())
    }

    /// The phases' `rules` that name no rule set of `knownRules` (a ``RuleRegistry``'s names).
    public func ruleProblems(knownRules: Set<String>) -> [String] {
        phases.enumerated().compactMap { i, p in
            guard let r = p.rules, !knownRules.contains(r) else { return nil }
            let expected = knownRules.isEmpty ? "no rules (no rule set is registered)"
                : "one of \(knownRules.sorted().joined(separator: ", "))"
            return "phases[\(i)].rules: expected \(expected), got \"\(r)\""
        }
    }

    /// The phase whose output feeds `phase`'s prompts, or nil for the run's items.
    public func inputPhase(of phase: PhaseSpec) -> PhaseSpec? {
        guard let i = phases.firstIndex(where: { $0.id == phase.id }) else { return nil }
        switch phase.input {
        case "items"?: return nil
        case let id?: return phases.first { $0.id == id }
        case nil: return i > 0 ? phases[i - 1] : nil
        }
    }
}
