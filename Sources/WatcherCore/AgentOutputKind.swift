/// What an agent prints on its standard output (`agent.output` in a spec): plain `text`, or
/// one of the agent CLIs' headless JSON shapes, which the watcher reads for usage and verdict.
public enum AgentOutputKind: String, CaseIterable, Equatable, Sendable {
    case text
    /// `claude -p --output-format json` (one object), or `stream-json` (its last `type:"result"` line).
    case claudeJSON = "claude-json"
    /// `gemini -p --output-format json`.
    case geminiJSON = "gemini-json"
    /// `codex exec --json`: one event per line.
    case codexJSONL = "codex-jsonl"

    /// Whether the agent's stdout is kept apart from its stderr and read when it exits.
    public var isJSON: Bool { self != .text }
}
