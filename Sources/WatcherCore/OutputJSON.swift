/// The documented JSON shapes of `show --json`, `messages --json` and `check --json` (schema 1,
/// the same number as `StatusReport.jsonSchema`; see the README's "JSON output" section). Pure.
public enum OutputJSON {
    static func header(_ kind: String) -> [(key: String, value: JSONValue)] {
        [("schema", .number(Double(StatusReport.jsonSchema))), ("kind", .string(kind))]
    }

    static func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
    static func optional(_ n: Int?) -> JSONValue { n.map { .number(Double($0)) } ?? .null }

    /// `show RUN --json`: every batch of the run in plan order.
    public static func batches(run: String, _ batches: [Batch]) -> JSONValue {
        .object(header("batches") + [
            ("run", .string(run)),
            ("batches", .array(batches.map { b in
                .object([
                    ("phase", .string(b.id.phase)), ("batch", .number(Double(b.id.index))),
                    ("state", .string(b.state.rawValue)), ("attempts", .number(Double(b.attempt))),
                    ("lastReason", optional(b.lastReason)), ("lastErrorCount", optional(b.lastErrorCount)),
                ])
            })),
        ])
    }

    /// One attempt of a batch, for `show RUN PHASE BATCH --json`.
    public struct Attempt: Sendable {
        public var attempt: Int
        public var started: String
        public var records: [EventRecord]
        public var errors: ValidationReport?
        public var agentLog: String
        public var agentLogTail: [String]
        /// The Slurm job of an attempt run by the `slurm` runner (its `running` record's `job_id`).
        public var jobID: String? { records.lazy.compactMap { $0.event.string("job_id") }.first }

        public init(attempt: Int, started: String, records: [EventRecord], errors: ValidationReport?, agentLog: String, agentLogTail: [String]) {
            self.attempt = attempt
            self.started = started
            self.records = records
            self.errors = errors
            self.agentLog = agentLog
            self.agentLogTail = agentLogTail
        }
    }

    /// `show RUN PHASE BATCH --json`: the batch and every attempt with its events and errors.
    /// `usage`: each attempt's `agent.usage` (see `CostReport`), when the agent's CLI reported it.
    public static func batch(_ b: Batch, attempts: [Attempt], usage: [CostReport.AttemptUsage] = []) -> JSONValue {
        .object(header("batch") + [
            ("run", .string(b.id.run)), ("phase", .string(b.id.phase)), ("batch", .number(Double(b.id.index))),
            ("state", .string(b.state.rawValue)), ("attempts", .number(Double(b.attempt))),
            ("attemptDetails", .array(attempts.map { a in
                .object([
                    ("attempt", .number(Double(a.attempt))), ("started", .string(a.started)),
                    ("events", .array(a.records.map { r in
                        .object([("ts", .string(r.ts)), ("event", .string(r.event.event)), ("from", optional(r.event.from)),
                                 ("to", optional(r.event.to)), ("reason", optional(r.event.reason))])
                    })),
                    ("errors", a.errors?.json["errors"] ?? .array([])),
                    ("agentLog", .string(a.agentLog)),
                    ("jobId", optional(a.jobID)),
                    ("agentLogTail", .array(a.agentLogTail.map(JSONValue.string))),
                    ("usage", usage.last { $0.attempt == a.attempt }?.json ?? .null),
                ])
            })),
        ])
    }

    /// `messages --json`: the threads, each message with its delivery state and body.
    /// `turns`: the responder turns of the log; each thread then has `stuck` and its `turns`.
    public static func threads(_ threads: [MessageThreads.Thread], turns: TurnSummary? = nil) -> JSONValue {
        .object(header("messages") + [
            ("threads", .array(threads.map { t in
                let mine = turns?.thread(t.root)
                return .object([
                    ("root", .string(t.root)),
                    ("stuck", .bool(mine?.stuck ?? false)),
                    ("turns", .array((mine?.turns ?? []).map { turn in
                        .object([
                            ("message", .string(turn.message)), ("responder", .string(turn.responder)),
                            ("turn", .number(Double(turn.turn))), ("attempt", .number(Double(turn.attempt))),
                            ("state", .string(turn.state)), ("reason", optional(turn.reason)), ("replyId", optional(turn.replyID)),
                            ("seconds", turn.seconds.map { .number($0) } ?? .null),
                            ("inputTokens", .number(Double(turn.inputTokens))), ("outputTokens", .number(Double(turn.outputTokens))),
                            ("costUSD", turn.costUSD.map { .number($0) } ?? .null), ("error", optional(turn.error)),
                        ])
                    })),
                    ("messages", .array(t.entries.map { e in
                        let m = e.message
                        return .object([
                            ("id", .string(m.id)), ("depth", .number(Double(e.depth))), ("from", .string(m.from)),
                            ("to", .string(m.to)), ("type", .string(m.type)), ("replyTo", optional(m.replyTo)),
                            ("status", .string(m.status)), ("received", optional(m.received)), ("run", optional(m.run)),
                            ("phase", optional(m.phase)), ("batch", optional(m.batch)), ("path", optional(m.path)),
                            ("body", m.body ?? .null),
                        ])
                    })),
                ])
            })),
        ])
    }

    /// One spec's outcome for `check --json`.
    public struct SpecOutcome: Sendable {
        public var path: String
        public var run: String?
        public var phases: Int?
        public var items: Int?
        public var batches: Int?
        public var problems: [String]

        public init(path: String, run: String?, phases: Int?, items: Int?, batches: Int?, problems: [String]) {
            self.path = path
            self.run = run
            self.phases = phases
            self.items = items
            self.batches = batches
            self.problems = problems
        }
    }

    /// `check --json`.
    public static func check(_ specs: [SpecOutcome]) -> JSONValue {
        .object(header("check") + [
            ("ok", .bool(specs.allSatisfy { $0.problems.isEmpty })),
            ("specs", .array(specs.map { s in
                .object([
                    ("path", .string(s.path)), ("ok", .bool(s.problems.isEmpty)), ("run", optional(s.run)),
                    ("phases", optional(s.phases)), ("items", optional(s.items)), ("batches", optional(s.batches)),
                    ("problems", .array(s.problems.map(JSONValue.string))),
                ])
            })),
        ])
    }
}
