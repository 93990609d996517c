extension EventFormatter {
    /// The line for a record worth a person's attention (merges, retries, failures, blocked
    /// batches, agents signalled, rejected files, a run's end), or nil. The demo and the
    /// foreground `run` print these.
    public static func attention(_ r: EventRecord) -> String? {
        let e = r.event
        switch e.event {
        case EventName.transition:
            switch e.to {
            case "merged"?, "retry_wait"?, "failed"?, "blocked"?: return line(r, explain: true)
            case "spawning"? where (e.attempt ?? 1) > 1: return line(r, explain: true) + "  (retry: attempt \(e.attempt ?? 0) starts)"
            default: return nil
            }
        case EventName.agentSignalled, EventName.fileRejected, EventName.runCompleted:
            return line(r, explain: true)
        default:
            return nil
        }
    }
}
