import WatcherCore

/// The cost report as text lines for `status` and `show`.
enum CostLines {
    static func percent(_ v: Double?) -> String {
        guard let v else { return "–" }
        return String(Int((v * 100).rounded())) + "%"
    }

    static func money(_ t: CostReport.Totals) -> String {
        "$" + CostFormat.usd(t.costUSD) + (t.estimated ? " (estimated)" : "")
            + (t.unpricedAttempts > 0 ? " + \(t.unpricedAttempts) attempt(s) without a price" : "")
    }

    static func totals(_ t: CostReport.Totals) -> String {
        var s = "\(money(t)), \(t.tokens) tokens (input \(t.inputTokens), output \(t.outputTokens), "
            + "cache read \(t.cacheReadTokens), cache write \(t.cacheWriteTokens)), \(t.attempts) attempt(s)"
        s += "; cache reads \(percent(t.cacheReadShare)) of input; retries \(percent(t.retryShare)) ($\(CostFormat.usd(t.retryCostUSD)))"
        if let per = t.costPerMergedItem { s += "; $\(CostFormat.usd(per)) per merged item" }
        return s
    }

    /// `list`'s suffix: the run's cost and projection, nothing when no attempt logged usage.
    static func short(_ c: CostReport.RunCost) -> String {
        guard c.totals.attempts > 0 else { return "" }
        return "  cost \(money(c.totals))" + (c.projection.map { "  projected $\(CostFormat.usd($0.totalUSD))" } ?? "")
    }

    /// Lines under a run in `status`: nothing when no attempt logged usage.
    static func run(_ c: CostReport.RunCost) -> [String] {
        guard c.totals.attempts > 0 else { return [] }
        var lines = ["  cost: " + totals(c.totals)]
        if let p = c.projection {
            lines.append("  projected total: $\(CostFormat.usd(p.totalUSD)) = \(p.basis)")
        } else {
            lines.append("  projected total: unknown until a priced batch merges")
        }
        if c.phases.count > 1 {
            for p in c.phases where p.totals.attempts > 0 { lines.append("    phase \(p.phase): " + totals(p.totals)) }
        }
        return lines
    }

    /// One attempt's usage in `show RUN PHASE BATCH`.
    static func attempt(_ attempt: CostReport.AttemptUsage) -> String {
        var s = "  usage: "
        if attempt.verdict == "unreadable" { return s + "output unreadable: \(attempt.message ?? "")" }
        let a = attempt.usage
        s += a.costUSD.map { "$" + CostFormat.usd($0) + (a.estimated ? " (estimated)" : "") } ?? "no cost"
        s += ", input \(a.inputTokens), output \(a.outputTokens), cache read \(a.cacheReadTokens), cache write \(a.cacheWriteTokens)"
        if !a.models.isEmpty { s += ", models \(a.models.map(\.model).joined(separator: ","))" }
        if let v = a.apiMilliseconds { s += ", api \(v) ms" }
        if let v = a.turns { s += ", \(v) turn(s)" }
        if let v = a.sessionID { s += ", session \(v)" }
        s += ", verdict \(attempt.verdict)" + (attempt.message.map { ": \($0)" } ?? "")
        return s
    }
}
