/// Whether a run may start another agent within its `budget`: what was spent plus what the
/// agents still running are likely to spend (the mean per attempt so far, each) must stay
/// below each limit. A pure function of the figures.
public enum BudgetCheck {
    /// The limit that is reached, with its figures; nil when another agent may start.
    public static func breach(_ budget: PipelineSpec.Budget?, spent: RunSpend, running: Int) -> BudgetBreach? {
        guard let budget else { return nil }
        if let max = budget.maxCostUSD {
            let likely = Double(running) * (spent.meanCostPerAttempt ?? 0)
            if spent.costUSD + likely >= max {
                return BudgetBreach(limit: "maxCostUSD", max: max, spent: spent.costUSD, likely: likely, running: running)
            }
        }
        if let max = budget.maxTokens {
            let likely = Double(running) * (spent.meanTokensPerAttempt ?? 0)
            if Double(spent.tokens) + likely >= Double(max) {
                return BudgetBreach(limit: "maxTokens", max: Double(max), spent: Double(spent.tokens), likely: likely, running: running)
            }
        }
        return nil
    }

    /// The budget left per batch still to run, in USD (`{budget_usd}`); nil without `maxCostUSD`.
    public static func leftPerBatch(_ budget: PipelineSpec.Budget?, spent: RunSpend, remainingBatches: Int) -> Double? {
        guard let max = budget?.maxCostUSD else { return nil }
        return Swift.max(0, max - spent.costUSD) / Double(Swift.max(1, remainingBatches))
    }
}

/// A budget limit reached: `spent` so far plus `likely` (the running agents' expected spend) ≥ `max`.
public struct BudgetBreach: Equatable, Sendable {
    /// `maxCostUSD` or `maxTokens`.
    public var limit: String
    public var max: Double
    public var spent: Double
    public var likely: Double
    public var running: Int

    public var isCost: Bool { limit == "maxCostUSD" }

    public var message: String {
        func f(_ v: Double) -> String { isCost ? "$" + CostFormat.usd(v) : String(Int(v.rounded())) }
        return "budget reached: \(limit) \(f(max)); spent \(f(spent))"
            + (running > 0 ? " + \(f(likely)) likely for \(running) running agent\(running == 1 ? "" : "s")" : "")
            + "; raise budget.\(limit) in the spec (then reload) or `resume --force`"
    }

    public var details: [Event.Detail] {
        [.init("limit", .string(limit)), .init("max", .double(max)), .init("spent", .double(spent)),
         .init("likely", .double(likely)), .init("running", .int(running))]
    }
}

/// Money as text without Foundation's formatter: 4 decimals, trailing zeros kept to 2.
public enum CostFormat {
    public static func usd(_ v: Double) -> String {
        let scaled = Int((v * 10_000).rounded())
        let whole = scaled / 10_000, frac = abs(scaled % 10_000)
        var f = String(frac)
        f = String(repeating: "0", count: 4 - f.count) + f
        while f.count > 2 && f.hasSuffix("0") { f.removeLast() }
        return (v < 0 && whole == 0 ? "-" : "") + "\(whole).\(f)"
    }
}
