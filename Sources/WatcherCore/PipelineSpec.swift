/// A run's pipeline, as read from its JSON spec file. Paths are relative to the spec file;
/// `resolved(relativeTo:)` makes them absolute. Every field but `run`, `items` and `phases`
/// has a default. See README "Pipeline spec".
public struct PipelineSpec: Codable, Equatable, Sendable {
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
    public var agent: AgentSpec?
    /// What a restarted daemon does with agents its previous life left running: `kill` their
    /// process groups and count the attempt as failed (`watcher_restart`), or `adopt` them.
    public var agentsOnRestart: AgentsOnRestart
    public var phases: [PhaseSpec]

    public enum AgentsOnRestart: String, Codable, Equatable, Sendable { case kill, adopt }

    public struct ItemSource: Codable, Equatable, Sendable {
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

    public struct Backoff: Codable, Equatable, Sendable {
        public var initialSeconds: Double
        public var multiplier: Double
        public var maxSeconds: Double

        public init(initialSeconds: Double = 1, multiplier: Double = 2, maxSeconds: Double = 60) {
            self.initialSeconds = initialSeconds
            self.multiplier = multiplier
            self.maxSeconds = maxSeconds
        }

        /// Delay before attempt `failedAttempt + 1`.
        public func delay(afterAttempt failedAttempt: Int) -> Double {
            var d = initialSeconds
            for _ in 1..<max(1, failedAttempt) { d *= multiplier }
            return min(d, maxSeconds)
        }
    }

    public struct AgentSpec: Codable, Equatable, Sendable {
        /// The command as an argv array; placeholders `{prompt_file}`, `{output}`, `{run}`,
        /// `{phase}`, `{batch}`, `{start}`, `{end}`, `{attempt}` are substituted per attempt.
        public var argv: [String]
        /// `stdin` (default): the prompt is fed on standard input; `file`: only written to `{prompt_file}`.
        public var prompt: PromptDelivery?
        /// Extra environment variables for the agent.
        public var env: [String: String]?
    }

    public enum PromptDelivery: String, Codable, Equatable, Sendable { case stdin, file }

    public struct ValidatorSpec: Codable, Equatable, Sendable {
        /// argv with `{batch_file}`, `{main_file}`, `{phase}`, `{batch}`.
        public var argv: [String]
        public var timeoutSeconds: Double?
    }

    public struct OutputSpec: Codable, Equatable, Sendable {
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

    public struct PhaseSpec: Codable, Equatable, Sendable {
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

    public enum ExpectIds: String, Codable, Equatable, Sendable { case batch, any }

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
        self.agent = nil
        self.agentsOnRestart = .kill
        self.phases = phases
    }

    enum CodingKeys: String, CodingKey {
        case version, run, items, batchSize, concurrency, maxAttempts, timeoutSeconds
        case killGraceSeconds, settleMilliseconds, maxFileBytes, backoff, agent, agentsOnRestart, phases
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PipelineSpec(run: "", items: ItemSource(file: ""), phases: [])
        version = try c.decodeIfPresent(Int.self, forKey: .version) ?? d.version
        run = try c.decode(String.self, forKey: .run)
        items = try c.decode(ItemSource.self, forKey: .items)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        concurrency = try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? d.concurrency
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? d.timeoutSeconds
        killGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .killGraceSeconds) ?? d.killGraceSeconds
        settleMilliseconds = try c.decodeIfPresent(Int.self, forKey: .settleMilliseconds) ?? d.settleMilliseconds
        maxFileBytes = try c.decodeIfPresent(Int.self, forKey: .maxFileBytes) ?? d.maxFileBytes
        backoff = try c.decodeIfPresent(Backoff.self, forKey: .backoff) ?? d.backoff
        agent = try c.decodeIfPresent(AgentSpec.self, forKey: .agent)
        agentsOnRestart = try c.decodeIfPresent(AgentsOnRestart.self, forKey: .agentsOnRestart) ?? .kill
        phases = try c.decode([PhaseSpec].self, forKey: .phases)
    }
}

extension PipelineSpec.Backoff {
    enum CodingKeys: String, CodingKey { case initialSeconds, multiplier, maxSeconds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PipelineSpec.Backoff()
        initialSeconds = try c.decodeIfPresent(Double.self, forKey: .initialSeconds) ?? d.initialSeconds
        multiplier = try c.decodeIfPresent(Double.self, forKey: .multiplier) ?? d.multiplier
        maxSeconds = try c.decodeIfPresent(Double.self, forKey: .maxSeconds) ?? d.maxSeconds
    }
}

extension PipelineSpec.PhaseSpec {
    public init(id: String, output: PipelineSpec.OutputSpec) {
        self.id = id
        self.output = output
    }
}
