/// What a run's agents have spent so far, folded from its `agent.usage` records.
public struct RunSpend: Equatable, Sendable {
    public var costUSD: Double = 0
    public var tokens: Int = 0
    /// Attempts with a usage record.
    public var attempts: Int = 0
    /// Attempts whose record has a cost (the CLI's or estimated from prices).
    public var pricedAttempts: Int = 0

    public init(costUSD: Double = 0, tokens: Int = 0, attempts: Int = 0, pricedAttempts: Int = 0) {
        self.costUSD = costUSD
        self.tokens = tokens
        self.attempts = attempts
        self.pricedAttempts = pricedAttempts
    }

    public mutating func fold(_ e: Event) {
        guard e.event == EventName.agentUsage, e.string("verdict") != "unreadable" else { return }
        attempts += 1
        tokens += ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"].reduce(0) { $0 + (e.int($1) ?? 0) }
        if let c = e.number("cost_usd") {
            costUSD += c
            pricedAttempts += 1
        }
    }

    public var meanCostPerAttempt: Double? { pricedAttempts > 0 ? costUSD / Double(pricedAttempts) : nil }
    public var meanTokensPerAttempt: Double? { attempts > 0 ? Double(tokens) / Double(attempts) : nil }
}
