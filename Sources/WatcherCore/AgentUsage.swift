/// What one attempt's agent CLI said it used, read from its headless JSON output
/// (``AgentOutputParser``). Token counts are normalised across the CLIs: `inputTokens` is input
/// neither read from nor written to the prompt cache, so `inputTokens + cacheReadTokens +
/// cacheWriteTokens` is the whole prompt.
public struct AgentUsage: Equatable, Sendable {
    /// Tokens of one model (a session may use several).
    public struct ModelTokens: Equatable, Sendable {
        public var model: String
        public var inputTokens: Int
        public var outputTokens: Int
        public var cacheReadTokens: Int
        public var cacheWriteTokens: Int
        /// The CLI's own figure for this model, when it gives one.
        public var costUSD: Double?

        public init(model: String, inputTokens: Int = 0, outputTokens: Int = 0, cacheReadTokens: Int = 0,
                    cacheWriteTokens: Int = 0, costUSD: Double? = nil) {
            self.model = model
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.cacheReadTokens = cacheReadTokens
            self.cacheWriteTokens = cacheWriteTokens
            self.costUSD = costUSD
        }

        public var totalTokens: Int { inputTokens + outputTokens + cacheReadTokens + cacheWriteTokens }
    }

    public var models: [ModelTokens]
    public var inputTokens: Int
    public var outputTokens: Int
    public var cacheReadTokens: Int
    public var cacheWriteTokens: Int
    /// The CLI's figure when it gives one, else computed from the spec's `prices` (`estimated`);
    /// nil when neither is known.
    public var costUSD: Double?
    public var estimated: Bool
    public var apiMilliseconds: Int?
    public var turns: Int?
    public var sessionID: String?

    public init(models: [ModelTokens] = [], inputTokens: Int = 0, outputTokens: Int = 0, cacheReadTokens: Int = 0,
                cacheWriteTokens: Int = 0, costUSD: Double? = nil, estimated: Bool = false,
                apiMilliseconds: Int? = nil, turns: Int? = nil, sessionID: String? = nil) {
        self.models = models
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.costUSD = costUSD
        self.estimated = estimated
        self.apiMilliseconds = apiMilliseconds
        self.turns = turns
        self.sessionID = sessionID
    }

    /// Totals summed from `models`.
    public init(models: [ModelTokens], costUSD: Double?, apiMilliseconds: Int? = nil, turns: Int? = nil,
                sessionID: String? = nil) {
        self.init(models: models, inputTokens: models.reduce(0) { $0 + $1.inputTokens },
                  outputTokens: models.reduce(0) { $0 + $1.outputTokens },
                  cacheReadTokens: models.reduce(0) { $0 + $1.cacheReadTokens },
                  cacheWriteTokens: models.reduce(0) { $0 + $1.cacheWriteTokens },
                  costUSD: costUSD, apiMilliseconds: apiMilliseconds, turns: turns, sessionID: sessionID)
    }

    public var totalTokens: Int { inputTokens + outputTokens + cacheReadTokens + cacheWriteTokens }

    /// The usage with a cost: the CLI's own when it gave one; else the sum over its models of
    /// `prices` (USD per million tokens), marked estimated; unchanged when a model has no price.
    public func priced(with prices: [String: PipelineSpec.Price]) -> AgentUsage {
        guard costUSD == nil, !models.isEmpty else { return self }
        var total = 0.0
        for m in models {
            guard let p = prices[m.model] ?? prices["*"] else { return self }
            total += p.cost(m)
        }
        var out = self
        out.costUSD = total
        out.estimated = true
        return out
    }
}

/// What the agent CLI itself said of its session: success, or failure with its kind
/// (`error_max_turns`, `turn.failed`, `exit 53`, ...) and the class the watcher gives it.
public struct AgentVerdict: Equatable, Sendable {
    public var failed: Bool
    /// `success`, the CLI's subtype or error type, `turn.failed`, `exit 53`, ...
    public var kind: String
    public var message: String?
    /// For a failure: `transient` for a rate limit or an overloaded service, else `agent_crashed`.
    public var failureClass: FailureClass?

    public init(failed: Bool, kind: String, message: String? = nil, failureClass: FailureClass? = nil) {
        self.failed = failed
        self.kind = kind
        self.message = message
        self.failureClass = failed ? (failureClass ?? .agentCrashed) : nil
    }

    public static let success = AgentVerdict(failed: false, kind: "success")

    /// A failure, classed by its text: a rate limit or an overload is the service's (`transient`).
    public static func failure(_ kind: String, message: String?) -> AgentVerdict {
        let text = kind + " " + (message ?? "")
        return AgentVerdict(failed: true, kind: kind, message: message,
                            failureClass: looksTransient(text) ? .transient : .agentCrashed)
    }

    static func looksTransient(_ text: String) -> Bool {
        let t = text.lowercased()
        return ["rate limit", "rate_limit", "ratelimit", "rate-limit", "overloaded", "429", "529", "quota",
                "resource_exhausted", "too many requests"].contains { t.contains($0) }
    }
}

/// One attempt's parsed agent output: what it used and what it said.
public struct AgentReport: Equatable, Sendable {
    public var usage: AgentUsage
    public var verdict: AgentVerdict
    /// The session's answer: claude's `result`, gemini's `response`, codex's last `agent_message`.
    public var text: String?

    public init(usage: AgentUsage, verdict: AgentVerdict, text: String? = nil) {
        self.usage = usage
        self.verdict = verdict
        self.text = text
    }
}

/// The output could not be read as the CLI's JSON: reported, never guessed at.
public struct AgentOutputError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
