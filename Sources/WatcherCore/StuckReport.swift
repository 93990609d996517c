/// `logs/stuck/<thread>.md`: why a thread stopped, for a person: who waits for whom, the
/// turns and the last error, and the transcript.
public enum StuckReport {
    public static func render(thread: String, responder: String, waiting: String, lastError: String?,
                              limit: Int, turns: [Turn], transcript: [AgentMessage]) -> String {
        var out = "# Thread \(thread) is stuck\n\n"
        out += "\(waiting) is waiting for \(responder); the thread reached \(limit) responder turns (maxTurnsPerThread), "
            + "so no more turns are taken in it.\n\n"
        out += "Last error: \(lastError.map { DerivedName.terminalSafe($0) } ?? "none")\n\n## Turns\n\n"
        out += "| turn | message | responder | attempts | state | reason |\n|---|---|---|---|---|---|\n"
        for t in turns {
            out += "| \(t.turn) | \(t.message) | \(t.responder) | \(t.attempt) | \(t.state.rawValue) | \(t.reason ?? "") |\n"
        }
        out += "\n## Transcript (oldest first)\n\n"
        for m in transcript {
            let body = String(decoding: (m.body ?? .null).serialized(), as: UTF8.self)
            out += "- **\(m.id)** \(m.type.rawValue) \(m.from) → \(m.to)\(m.replyTo.map { " (reply to \($0))" } ?? ""):\n  `"
                + String(DerivedName.terminalSafe(body, keepingNewlines: false).map { $0 == "`" ? "'" : $0 }) + "`\n"
        }
        return out
    }
}
