/// A run's pipeline, as read from its JSON spec file (``PipelineSpec/decode(_:)``). Paths are
/// relative to the spec file. Every field but `run`, `items` and `phases` has a default.
/// See README "Pipeline spec".
public struct PipelineSpec: Equatable, Sendable {
    public var version: Int
    public var run: String
    public var items: ItemSource
    public var batchSize: Int
    public var concurrency: Int
    public var maxAttempts: Int
    public var timeoutSeconds: Double
    public var killGraceSeconds: Double
    public var settleMilliseconds: Int
    public var maxFileBytes: Int
    public var backoff: Backoff
    /// The delay before retrying an attempt that failed transiently (rate limit, overload).
    public var transientBackoff: Backoff
    /// After this many consecutive transient failures the run stops spawning for a while.
    public var circuitBreaker: CircuitBreaker
    public var agent: AgentSpec?
    /// What a restarted daemon does with agents its previous life left running: `kill` their
    /// process groups and count the attempt as failed (`watcher_restart`), or `adopt` them.
    public var agentsOnRestart: AgentsOnRestart
    /// Seconds between reconciliation scans of the mailbox (files inotify cannot see: writes
    /// from other hosts on NFS or Lustre); 0 = never; unset = on only on a network filesystem.
    public var reconcileSeconds: Double?
    public var phases: [PhaseSpec]
    /// USD per million tokens, per model (`"*"`: any other model): the cost of an attempt whose
    /// CLI reports tokens but no money.
    public var prices: [String: Price]
    /// Spending limits of the run; nil: none.
    public var budget: Budget?
    /// Which ready batch takes a free slot first: `chain` (default) or `phase-first`.
    public var order: SchedulingOrder
    /// Agents that answer messages (`responders`): see ``ResponderSpec``.
    public var responders: [ResponderSpec]

    /// USD per million tokens of one model.
    public struct Price: Equatable, Sendable {
        public var input: Double
        public var output: Double
        public var cacheRead: Double
        public var cacheWrite: Double

        public init(input: Double, output: Double, cacheRead: Double = 0, cacheWrite: Double = 0) {
            self.input = input
            self.output = output
            self.cacheRead = cacheRead
            self.cacheWrite = cacheWrite
        }

        public func cost(_ m: AgentUsage.ModelTokens) -> Double {
            (Double(m.inputTokens) * input + Double(m.outputTokens) * output + Double(m.cacheReadTokens) * cacheRead
                + Double(m.cacheWriteTokens) * cacheWrite) / 1_000_000
        }
    }

    /// `budget: {maxCostUSD, maxTokens}`: either may be left out.
    public struct Budget: Equatable, Sendable {
        public var maxCostUSD: Double?
        public var maxTokens: Int?
        public init(maxCostUSD: Double? = nil, maxTokens: Int? = nil) {
            self.maxCostUSD = maxCostUSD
            self.maxTokens = maxTokens
        }
    }

    public enum AgentsOnRestart: String, CaseIterable, Equatable, Sendable { case kill, adopt }

    public struct ItemSource: Equatable, Sendable {
        /// JSON file holding the run's items, in order.
        public var file: String
        /// Top-level key of the container; `nil` when the file's top level is the container.
        public var key: String?
        /// For an array of objects: the member holding each item's id. Object containers use their keys.
        public var idField: String?

        public init(file: String, key: String? = nil, idField: String? = nil) {
            self.file = file
            self.key = key
            self.idField = idField
        }
    }

    public struct Backoff: Equatable, Sendable {
        public var initialSeconds: Double
        public var multiplier: Double
        public var maxSeconds: Double

        public init(initialSeconds: Double = 1, multiplier: Double = 2, maxSeconds: Double = 60) {
            self.initialSeconds = initialSeconds
            self.multiplier = multiplier
            self.maxSeconds = maxSeconds
        }

        /// `transientBackoff`'s defaults: 5 s, doubling, at most 300 s.
        public static let transientDefault = Backoff(initialSeconds: 5, multiplier: 2, maxSeconds: 300)

        /// Delay before attempt `failedAttempt + 1`.
        public func delay(afterAttempt failedAttempt: Int) -> Double {
            var d = initialSeconds
            for _ in 1..<max(1, failedAttempt) { d *= multiplier }
            return min(d, maxSeconds)
        }
    }

    public struct CircuitBreaker: Equatable, Sendable {
        /// Consecutive transient failures of a run that open the breaker; 0 disables it.
        public var consecutiveFailures: Int
        public init(consecutiveFailures: Int = 3) { self.consecutiveFailures = consecutiveFailures }
    }

    /// How to tell a transient failure (rate limit, overload: retry later, not the batch's
    /// fault) from a real one: by the agent's exit code or by a pattern in its output.
    public struct Transient: Equatable, Sendable {
        public var exitCodes: [Int]
        /// Regular expressions (Swift `Regex` syntax) matched against the agent's log.
        public var patterns: [String]

        public static let defaultPatterns = [#"\b429\b"#, #"\b529\b"#, "(?i)rate[ _-]?limit", "(?i)overloaded", "(?i)quota"]

        public init(exitCodes: [Int] = [], patterns: [String] = Transient.defaultPatterns) {
            self.exitCodes = exitCodes
            self.patterns = patterns
        }
    }

    /// An `agent` block as written, at the top level or in a phase: every field may be left out.
    /// A phase's block is merged over the top-level one (``PipelineSpec/agent(for:)``).
    public struct AgentSpec: Equatable, Sendable {
        /// The command as an argv array; placeholders `{prompt_file}`, `{output}`, `{run}`,
        /// `{phase}`, `{batch}`, `{start}`, `{end}`, `{attempt}` are substituted per attempt.
        public var argv: [String]?
        /// `stdin` (default): the prompt is fed on standard input; `file`: only written to `{prompt_file}`.
        public var prompt: PromptDelivery?
        /// Extra environment variables for the agent.
        public var env: [String: String]?
        public var transient: Transient?
        /// What the agent prints on stdout: `text`, or a CLI's JSON read for usage and verdict.
        public var output: AgentOutputKind?
        /// `local` (default) or `slurm`: each attempt a Slurm job step (``SlurmStep``).
        public var runner: AgentRunner?
        public var slurm: SlurmSettings?

        public init(argv: [String]? = nil, prompt: PromptDelivery? = nil, env: [String: String]? = nil,
                    transient: Transient? = nil, output: AgentOutputKind? = nil, runner: AgentRunner? = nil,
                    slurm: SlurmSettings? = nil) {
            self.argv = argv
            self.prompt = prompt
            self.env = env
            self.transient = transient
            self.output = output
            self.runner = runner
            self.slurm = slurm
        }
    }

    /// A phase's agent after merging its block over the top-level one, with defaults filled in.
    public struct ResolvedAgent: Equatable, Sendable {
        public var argv: [String]
        public var prompt: PromptDelivery
        public var env: [String: String]
        public var transient: Transient
        public var output: AgentOutputKind
        public var runner: AgentRunner
        public var slurm: SlurmSettings

        public init(argv: [String], prompt: PromptDelivery = .stdin, env: [String: String] = [:],
                    transient: Transient = Transient(), output: AgentOutputKind = .text, runner: AgentRunner = .local,
                    slurm: SlurmSettings = SlurmSettings()) {
            self.argv = argv
            self.prompt = prompt
            self.env = env
            self.transient = transient
            self.output = output
            self.runner = runner
            self.slurm = slurm
        }
    }

    public enum PromptDelivery: String, CaseIterable, Equatable, Sendable { case stdin, file }

    public struct ValidatorSpec: Equatable, Sendable {
        /// argv with `{batch_file}`, `{main_file}`, `{phase}`, `{batch}`.
        public var argv: [String]
        public var timeoutSeconds: Double?

        public init(argv: [String], timeoutSeconds: Double? = nil) {
            self.argv = argv
            self.timeoutSeconds = timeoutSeconds
        }
    }

    public struct OutputSpec: Equatable, Sendable {
        /// The phase's main output file.
        public var file: String
        public var strategy: MergeStrategy
        /// Top-level key of the items container in the main file and in batch files.
        public var key: String?
        /// For `array` and `jsonl`: the member holding each item's id.
        public var idField: String?
        /// The main file's initial content (any JSON), used when it does not exist yet.
        public var template: JSONTemplate?

        public init(file: String, strategy: MergeStrategy, key: String? = nil, idField: String? = nil,
                    template: JSONTemplate? = nil) {
            self.file = file
            self.strategy = strategy
            self.key = key
            self.idField = idField
            self.template = template
        }
    }

    public struct PhaseSpec: Equatable, Sendable {
        public var id: String
        public var name: String?
        /// Instruction file for the agent (Markdown or text), relative to the spec.
        public var instructions: String?
        /// Where the prompt's input items come from: `items` (the run's items) or a phase id.
        /// Default: `items` for the first phase, the previous phase for the others.
        public var input: String?
        public var output: OutputSpec
        /// `batch` (default): the batch must hold exactly the ids of its range. `any`: ids are
        /// checked by the phase's rules instead (e.g. items keyed by a derived id).
        public var expectIds: ExpectIds?
        /// A built-in rule set: `seed_pairs`, `lego_pairs`, `lego_baskets` (the demo course).
        public var rules: String?
        public var validators: [ValidatorSpec]?
        public var agent: AgentSpec?
        public var timeoutSeconds: Double?
        public var maxAttempts: Int?
    }

    public enum ExpectIds: String, CaseIterable, Equatable, Sendable { case batch, any }

    public init(run: String, items: ItemSource, phases: [PhaseSpec]) {
        self.version = 1
        self.run = run
        self.items = items
        self.batchSize = 20
        self.concurrency = 2
        self.maxAttempts = 3
        self.timeoutSeconds = 600
        self.killGraceSeconds = 5
        self.settleMilliseconds = 200
        self.maxFileBytes = 64 << 20
        self.backoff = Backoff()
        self.transientBackoff = Backoff.transientDefault
        self.circuitBreaker = CircuitBreaker()
        self.agent = nil
        self.agentsOnRestart = .kill
        self.phases = phases
        self.prices = [:]
        self.budget = nil
        self.order = .chain
        self.responders = []
    }
}

extension PipelineSpec.PhaseSpec {
    public init(id: String, output: PipelineSpec.OutputSpec) {
        self.id = id
        self.output = output
    }
}
