/// How a drain went: for each batch a drain re-queued (its `drain.started` order), the state it
/// ended in, from the records logged after that `drain.started`. Pure; `drain` waits until
/// `isFinished`, prints `text` and writes `json` to `logs/drains/<drain-id>.json`.
public struct DrainReport: Equatable, Sendable {
    public struct Outcome: Equatable, Sendable {
        public var run: String
        public var phase: String
        public var batch: Int
        /// nil while the batch has not ended.
        public var state: BatchState?
        public var lastReason: String?
        public var lastMessage: String?
    }

    public var id: String
    public var outcomes: [Outcome]

    public var isFinished: Bool { outcomes.allSatisfy { $0.state != nil } }
    public var processed: Int { outcomes.filter { $0.state != nil }.count }
    public var succeeded: Int { outcomes.filter { $0.state == .merged || $0.state == .skipped }.count }
    public var failed: Int { processed - succeeded }
    public var successRate: Double? { processed == 0 ? nil : Double(succeeded) / Double(processed) }

    /// `starts`: the `drain.started` record of each run the drain covers.
    public static func build(id: String, starts: [EventRecord], records: [EventRecord]) -> DrainReport {
        var outcomes: [Outcome] = []
        var index: [BatchID: Int] = [:]
        var after: [String: UInt64] = [:]
        for s in starts {
            guard let run = s.event.run else { continue }
            after[run] = s.seq
            for label in s.event.strings("order") ?? [] {
                guard let slash = label.lastIndex(of: "/"), let k = Int(label[label.index(after: slash)...]) else { continue }
                let id = BatchID(run: run, phase: String(label[..<slash]), index: k)
                index[id] = outcomes.count
                outcomes.append(Outcome(run: run, phase: id.phase, batch: k))
            }
        }
        for r in records where r.event.event == EventName.transition {
            guard let id = r.event.batchID, let i = index[id], let seq = after[id.run], r.seq > seq,
                  let to = r.event.to.flatMap(BatchState.init(rawValue:)) else { continue }
            if to == .retryWait || to == .failed { outcomes[i].lastReason = r.event.reason; outcomes[i].lastMessage = r.event.string("message") }
            outcomes[i].state = to.isTerminal ? to : nil
        }
        return DrainReport(id: id, outcomes: outcomes)
    }

    public var text: String {
        var lines = ["drain \(id): processed \(processed) of \(outcomes.count), succeeded \(succeeded), failed \(failed), success rate "
                     + (successRate.map { String(Int(($0 * 1000).rounded()) / 10) + "." + String(Int(($0 * 1000).rounded()) % 10) + "%" } ?? "-")]
        var groups: [String: [Outcome]] = [:]
        var order: [String] = []
        for o in outcomes {
            let key = "\(o.run) phase \(o.phase)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(o)
        }
        for key in order {
            let g = groups[key] ?? []
            let ok = g.filter { $0.state == .merged || $0.state == .skipped }.count
            lines.append("  \(key): \(ok) succeeded, \(g.filter { $0.state != nil }.count - ok) failed, \(g.filter { $0.state == nil }.count) not ended")
        }
        for o in outcomes where o.state != nil && o.state != .merged && o.state != .skipped {
            var s = "  failed: \(o.run) \(o.phase)/\(o.batch) \(o.state?.rawValue ?? "")"
            if let r = o.lastReason { s += "  last error: \(r)" }
            if let m = o.lastMessage { s += " \"\(m.prefix(200))\"" }
            lines.append(s)
        }
        return lines.joined(separator: "\n")
    }

    public var json: JSONValue {
        func n(_ v: Int) -> JSONValue { .number(Double(v)) }
        return .object([
            ("schema", n(StatusReport.jsonSchema)), ("kind", .string("drain")), ("id", .string(id)),
            ("finished", .bool(isFinished)), ("batches", n(outcomes.count)), ("processed", n(processed)),
            ("succeeded", n(succeeded)), ("failed", n(failed)), ("successRate", successRate.map(JSONValue.number) ?? .null),
            ("results", .array(outcomes.map { o in
                .object([
                    ("run", .string(o.run)), ("phase", .string(o.phase)), ("batch", n(o.batch)),
                    ("state", o.state.map { .string($0.rawValue) } ?? .null),
                    ("lastError", o.lastReason.map(JSONValue.string) ?? .null),
                    ("lastMessage", o.lastMessage.map(JSONValue.string) ?? .null),
                ])
            })),
        ])
    }
}

extension DrainReport {
    /// Reads back a report written as `json` (for `drain --report ID`).
    public init?(json: JSONValue) {
        guard json["kind"]?.stringValue == "drain", let id = json["id"]?.stringValue, let results = json["results"]?.arrayValue else { return nil }
        var outcomes: [Outcome] = []
        for r in results {
            guard let run = r["run"]?.stringValue, let phase = r["phase"]?.stringValue, let batch = r["batch"]?.intValue else { return nil }
            outcomes.append(Outcome(run: run, phase: phase, batch: batch,
                                    state: r["state"]?.stringValue.flatMap(BatchState.init(rawValue:)),
                                    lastReason: r["lastError"]?.stringValue, lastMessage: r["lastMessage"]?.stringValue))
        }
        self.init(id: id, outcomes: outcomes)
    }
}
