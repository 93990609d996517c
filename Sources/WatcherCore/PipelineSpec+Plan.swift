extension PipelineSpec {
    /// Each phase's part of the plan (its id, strategy, input with the default resolved, main file).
    public var phaseShapes: [PlanFacts.PhaseShape] {
        phases.map { p in
            PlanFacts.PhaseShape(id: p.id, strategy: p.output.strategy.rawValue,
                                 input: inputPhase(of: p)?.id ?? "items", file: p.output.file)
        }
    }

    /// The settings a spec may change while its run goes on, flattened to `key=value text`, so a
    /// change is logged with its old and new value. Environment values are logged as digests
    /// (they may hold secrets).
    public var settings: [String: String] {
        var s: [String: String] = [:]
        func text(_ v: JSONValue) -> String { String(decoding: v.serialized(), as: UTF8.self) }
        func strings(_ a: [String]) -> String { text(.array(a.map { .string($0) })) }
        func num(_ d: Double) -> String { text(.number(d)) }
        // Each phase's agent as it runs (merged over the top-level one).
        func agentSettings(_ a: ResolvedAgent?, _ at: String) {
            guard let a else { return }
            s[at + ".argv"] = strings(a.argv)
            s[at + ".prompt"] = a.prompt.rawValue
            for (k, v) in a.env { s[at + ".env." + k] = "sha256:" + String(SHA256.hex(Array(v.utf8)).prefix(12)) }
            s[at + ".transient"] = strings(a.transient.exitCodes.map(String.init) + a.transient.patterns)
            if a.output != .text { s[at + ".output"] = a.output.rawValue }
        }
        s["concurrency"] = "\(concurrency)"
        s["maxAttempts"] = "\(maxAttempts)"
        s["timeoutSeconds"] = num(timeoutSeconds)
        s["killGraceSeconds"] = num(killGraceSeconds)
        s["settleMilliseconds"] = "\(settleMilliseconds)"
        s["maxFileBytes"] = "\(maxFileBytes)"
        s["backoff"] = "\(num(backoff.initialSeconds))/\(num(backoff.multiplier))/\(num(backoff.maxSeconds))"
        s["agentsOnRestart"] = agentsOnRestart.rawValue
        if order != .chain { s["order"] = order.rawValue }
        s["transientBackoff"] = "\(num(transientBackoff.initialSeconds))/\(num(transientBackoff.multiplier))/\(num(transientBackoff.maxSeconds))"
        s["circuitBreaker.consecutiveFailures"] = "\(circuitBreaker.consecutiveFailures)"
        if let b = budget {
            if let c = b.maxCostUSD { s["budget.maxCostUSD"] = num(c) }
            if let t = b.maxTokens { s["budget.maxTokens"] = "\(t)" }
        }
        for (model, p) in prices {
            s["prices." + model] = "\(num(p.input))/\(num(p.output))/\(num(p.cacheRead))/\(num(p.cacheWrite))"
        }
        for (i, p) in phases.enumerated() {
            let at = "phases[\(i)]"
            if let v = p.name { s[at + ".name"] = v }
            if let v = p.instructions { s[at + ".instructions"] = v }
            if let v = p.rules { s[at + ".rules"] = v }
            if let v = p.expectIds { s[at + ".expectIds"] = v.rawValue }
            if let v = p.timeoutSeconds { s[at + ".timeoutSeconds"] = num(v) }
            if let v = p.maxAttempts { s[at + ".maxAttempts"] = "\(v)" }
            if let t = p.output.template { s[at + ".output.template"] = "sha256:" + String(SHA256.hex(t.text).prefix(12)) }
            for (j, v) in (p.validators ?? []).enumerated() {
                s[at + ".validators[\(j)]"] = strings(v.argv) + (v.timeoutSeconds.map { " timeout " + num($0) } ?? "")
            }
            agentSettings(agent(for: p), at + ".agent")
        }
        return s
    }
}
