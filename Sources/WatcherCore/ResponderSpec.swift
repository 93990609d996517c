/// A responder: an agent CLI the operator declares in a pipeline spec (`responders`), woken by
/// a delivered message of one of its `on` types to `agents/<name>/`. Its answer is posted back
/// as a `response` message. Only this spec says what runs: no field of a message becomes argv,
/// a path or shell text; message fields reach the agent only inside the prompt.
public struct ResponderSpec: Equatable, Sendable {
    /// Where the answer is: the agent's standard output, or the file `{reply_file}`.
    public enum Reply: String, CaseIterable, Equatable, Sendable { case stdout, file }

    /// A plain name, unique on the root: the maildir `agents/<name>/` it answers.
    public var name: String
    /// Placeholders: `{prompt_file}`, `{reply_file}`, `{thread}`, `{message}`, `{from}`,
    /// `{session_id}`, `{turn}`. Every value is a plain name or a path the daemon chose.
    public var argv: [String]
    public var prompt: PipelineSpec.PromptDelivery
    /// The instructions file, relative to the spec.
    public var instructions: String?
    /// Message types that wake it.
    public var on: [AgentMessage.Kind]
    public var timeoutSeconds: Double
    /// Turns of this responder running at once.
    public var concurrency: Int
    /// Attempts per turn (crash, timeout, no answer) before it ends `failed` with an error reply.
    public var maxAttempts: Int
    /// Responder turns a thread may have before it is `stuck`.
    public var maxTurnsPerThread: Int
    /// This many failed turns in a row pause the responder (`responder.paused`).
    public var maxConsecutiveErrors: Int
    /// The thread's earlier messages in the prompt, at most this many bytes (the newest kept).
    public var maxThreadBytes: Int
    public var reply: Reply
    public var output: AgentOutputKind
    /// Added to argv on later turns of a thread once a session id is known (`{session_id}` filled in).
    public var resumeArgs: [String]
    public var env: [String: String]

    public static let defaultOn: [AgentMessage.Kind] = [.request, .query, .handoff, .feedback, .discussion]

    public init(name: String, argv: [String], prompt: PipelineSpec.PromptDelivery = .stdin, instructions: String? = nil,
                on: [AgentMessage.Kind] = ResponderSpec.defaultOn, timeoutSeconds: Double = 600, concurrency: Int = 1,
                maxAttempts: Int = 3, maxTurnsPerThread: Int = 10, maxConsecutiveErrors: Int = 3,
                maxThreadBytes: Int = 64 << 10, reply: Reply = .stdout, output: AgentOutputKind = .text,
                resumeArgs: [String] = [], env: [String: String] = [:]) {
        self.name = name
        self.argv = argv
        self.prompt = prompt
        self.instructions = instructions
        self.on = on
        self.timeoutSeconds = timeoutSeconds
        self.concurrency = concurrency
        self.maxAttempts = maxAttempts
        self.maxTurnsPerThread = maxTurnsPerThread
        self.maxConsecutiveErrors = maxConsecutiveErrors
        self.maxThreadBytes = maxThreadBytes
        self.reply = reply
        self.output = output
        self.resumeArgs = resumeArgs
        self.env = env
    }

    /// Whether a message of type `kind` wakes it.
    public func wakes(on kind: AgentMessage.Kind) -> Bool { on.contains(kind) }

    /// The placeholders argv and resumeArgs may use.
    public static let placeholders = ["prompt_file", "reply_file", "thread", "message", "from", "session_id", "turn"]
}
