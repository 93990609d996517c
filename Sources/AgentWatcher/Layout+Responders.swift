import WatcherCore

/// Responder turns' files: `logs/responders/<name>/<message>-<attempt>.{prompt.md,stdout,log,reply}`,
/// and the reports of stuck threads, `logs/stuck/<thread>.md`. Every name in them is a plain
/// name (the responder's from the spec, the message's checked by the broker).
extension Layout {
    public func responderLogs(_ responder: String) -> String { logs + "/responders/" + responder }

    public func responderFile(_ t: Turn, attempt: Int, _ ending: String) -> String {
        responderFile(responder: t.responder, message: t.message, attempt: attempt, ending)
    }

    /// `logs/responders/<responder>/<message>-<attempt>.<ending>` (`prompt.md`, `stdout`, `log`, `reply`).
    public func responderFile(responder: String, message: String, attempt: Int, _ ending: String) -> String {
        responderLogs(responder) + "/\(message)-\(attempt).\(ending)"
    }

    public var stuckReports: String { logs + "/stuck" }
    public func stuckReport(_ thread: String) -> String { stuckReports + "/\(thread).md" }
}
