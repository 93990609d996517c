/// What a responder's finished attempt gave, read from its exit, its standard output (or its
/// CLI's headless JSON) and its reply file: the answer text and session id, or why there is none.
/// Pure: bytes in, a value out.
public enum ResponderAnswer: Equatable, Sendable {
    case answer(text: String, sessionID: String?, usage: [Event.Detail])
    case failure(reason: String, message: String, transient: Bool, usage: [Event.Detail])

    /// `exitCode`: nil when a signal ended it (`status` says which). `logTail`: its standard error,
    /// for the transient patterns.
    public static func read(_ spec: ResponderSpec, status: String, exitCode: Int?, stdout: [UInt8], replyFile: [UInt8]?,
                            logTail: String) -> ResponderAnswer {
        var usage: [Event.Detail] = []
        var text: String?
        var sessionID: String?
        let transientMatch = PipelineSpec.Transient.defaults.match(exitCode: exitCode, logTail: logTail)
            ?? PipelineSpec.Transient.defaults.match(exitCode: nil, logTail: String(decoding: stdout.suffix(64 << 10), as: UTF8.self))
        if spec.output.isJSON {
            switch AgentOutputParser.parse(spec.output, stdout: stdout, exitCode: exitCode) {
            case .success(let report):
                usage = AgentOutcome.report(report).details.filter { !["message", "verdict", "class", "session_id"].contains($0.key) }
                sessionID = report.usage.sessionID
                if report.verdict.failed {
                    return .failure(reason: "agent_error", message: "\(report.verdict.kind): \(report.verdict.message ?? "")",
                                    transient: report.verdict.failureClass == .transient || transientMatch != nil, usage: usage)
                }
                text = report.text
            case .failure(let e):
                if exitCode == 0 {
                    return .failure(reason: "unreadable_output", message: "\(spec.output.rawValue): \(e.message)",
                                    transient: false, usage: [])
                }
            }
        }
        guard exitCode == 0 else {
            return .failure(reason: "crashed", message: status + (logTail.isEmpty ? "" : ": " + lastLine(logTail)),
                            transient: transientMatch != nil, usage: usage)
        }
        switch spec.reply {
        case .file:
            guard let replyFile else { return .failure(reason: "no_answer", message: "it wrote no reply file", transient: false, usage: usage) }
            text = String(decoding: replyFile, as: UTF8.self)
        case .stdout:
            if !spec.output.isJSON { text = String(decoding: stdout, as: UTF8.self) }
        }
        guard let answer = text.map(trimmed), !answer.isEmpty else {
            return .failure(reason: "no_answer", message: "its answer was empty", transient: false, usage: usage)
        }
        return .answer(text: answer, sessionID: sessionID, usage: usage)
    }

    /// `text` without the white space around it.
    static func trimmed(_ text: String) -> String {
        let white: Set<Character> = [" ", "\n", "\t", "\r", "\r\n"]
        let start = text.firstIndex { !white.contains($0) } ?? text.endIndex
        let end = text.lastIndex { !white.contains($0) }.map { text.index(after: $0) } ?? start
        return start < end ? String(text[start..<end]) : ""
    }

    static func lastLine(_ text: String) -> String {
        let line = text.split(separator: "\n").last.map(String.init) ?? ""
        return String(line.prefix(300))
    }
}
