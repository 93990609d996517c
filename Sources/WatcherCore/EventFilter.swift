/// Which event records `tail` shows: by run, event name (`batch` matches `batch.transition`),
/// batch (`PHASE/K`) and time (records at or after `since`, an ISO 8601 prefix such as
/// `2026-11-21T08:00`). Pure.
public struct EventFilter: Equatable, Sendable {
    public var run: String?
    public var event: String?
    public var batch: (phase: String, index: Int)?
    public var since: String?

    public init(run: String? = nil, event: String? = nil, batch: (phase: String, index: Int)? = nil, since: String? = nil) {
        self.run = run
        self.event = event
        self.batch = batch
        self.since = since
    }

    public static func == (a: EventFilter, b: EventFilter) -> Bool {
        a.run == b.run && a.event == b.event && a.since == b.since && a.batch?.phase == b.batch?.phase && a.batch?.index == b.batch?.index
    }

    /// Nothing to filter: every record passes (so lines need not be decoded).
    public var isEmpty: Bool { run == nil && event == nil && batch == nil && since == nil }

    public func matches(_ r: EventRecord) -> Bool {
        if let run, r.event.run != run { return false }
        if let event, r.event.event != event, !r.event.event.hasPrefix(event + ".") { return false }
        if let batch, r.event.phase != batch.phase || r.event.batch != batch.index { return false }
        if let since, r.ts < since { return false }
        return true
    }

    /// `PHASE/K`, or nil when it is not that shape.
    public static func parseBatch(_ text: String) -> (phase: String, index: Int)? {
        guard let slash = text.lastIndex(of: "/"), let k = Int(text[text.index(after: slash)...]), k >= 1 else { return nil }
        let phase = String(text[..<slash])
        return phase.isEmpty ? nil : (phase, k)
    }
}
