extension PipelineSpec {
    /// What is wrong with the spec beyond its JSON shape, each as `key: what was expected`.
    public func problems() -> [String] {
        var out: [String] = []
        if !Self.isPlainName(run) { out.append("run: expected a plain name (letters, digits, '-', '_', '.'; no '/'), got \"\(run)\"") }
        if version != 1 { out.append("version: expected 1, got \(version)") }
        if batchSize < 1 { out.append("batchSize: expected a whole number ≥ 1, got \(batchSize)") }
        if concurrency < 1 { out.append("concurrency: expected a whole number ≥ 1, got \(concurrency)") }
        if maxAttempts < 1 { out.append("maxAttempts: expected a whole number ≥ 1, got \(maxAttempts)") }
        if !(timeoutSeconds > 0) { out.append("timeoutSeconds: expected a number > 0, got \(timeoutSeconds)") }
        if settleMilliseconds < 0 { out.append("settleMilliseconds: expected ≥ 0, got \(settleMilliseconds)") }
        if maxFileBytes < 1 { out.append("maxFileBytes: expected ≥ 1, got \(maxFileBytes)") }
        if items.file.isEmpty { out.append("items.file: expected the path of the run's items file") }
        if phases.isEmpty { out.append("phases: expected at least one phase") }
        if let agent, agent.argv.isEmpty { out.append("agent.argv: expected a non-empty array (the program and its arguments)") }
        var seen: [String] = []
        for (i, p) in phases.enumerated() {
            let at = "phases[\(i)]"
            if !Self.isPlainName(p.id) { out.append("\(at).id: expected a plain name, got \"\(p.id)\"") }
            if seen.contains(p.id) { out.append("\(at).id: \"\(p.id)\" is used by an earlier phase") }
            if let input = p.input, input != "items", !seen.contains(input) {
                out.append("\(at).input: expected \"items\" or the id of an earlier phase, got \"\(input)\"")
            }
            seen.append(p.id)
            if p.agent == nil && agent == nil { out.append("\(at).agent: no agent command here nor at the top level") }
            if let a = p.agent, a.argv.isEmpty { out.append("\(at).agent.argv: expected a non-empty array") }
            if p.output.file.isEmpty { out.append("\(at).output.file: expected the path of the phase's main output file") }
            if p.output.strategy != .object && (p.output.idField ?? "").isEmpty {
                out.append("\(at).output.idField: the \(p.output.strategy.rawValue) strategy needs the member that holds each item's id")
            }
            if p.output.strategy == .jsonl && p.output.key != nil {
                out.append("\(at).output.key: a jsonl file has no top-level key; leave it out")
            }
            for (j, v) in (p.validators ?? []).enumerated() where v.argv.isEmpty {
                out.append("\(at).validators[\(j)].argv: expected a non-empty array")
            }
        }
        return out
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

    /// The agent command of a phase (its own, else the run's).
    public func agent(for phase: PhaseSpec) -> AgentSpec? { phase.agent ?? agent }

    /// The phase whose output feeds `phase`'s prompts, or nil for the run's items.
    public func inputPhase(of phase: PhaseSpec) -> PhaseSpec? {
        guard let i = phases.firstIndex(where: { $0.id == phase.id }) else { return nil }
        switch phase.input {
        case "items"?: return nil
        case let id?: return phases.first { $0.id == id }
        case nil: return i > 0 ? phases[i - 1] : nil
        }
    }

    /// A name safe to use as one path component.
    public static func isPlainName(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 255, s != ".", s != ".." else { return false }
        return s.unicodeScalars.allSatisfy {
            ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0))
        }
    }
}
