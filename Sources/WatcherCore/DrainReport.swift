/// How a drain went: for each batch a drain re-queued (its `drain.started` order), the state it
/// ended in, from the records logged after that `drain.started`. Pure; `drain` waits until
/// `isFinished`, prints `text` and writes `json` to `logs/drains/<drain-id>.json`. A drain ends
/// when nothing more can happen for its batches without a person: each batch ended, or its run
/// paused (any reason: `run.paused`, `pause`, or a `drain.completed` with the pause's reason) and
/// none of its batches is in flight (those still end); the batches still open count as not done.
public struct DrainReport: Equatable, Sendable {
    public struct Outcome: Equatable, Sendable {
        public var run: String
        public var phase: String
        public var batch: Int
        /// nil while the batch has not ended.
        public var state: BatchState?
        public var lastReason: String?
        public var lastMessage: String?
        /// Its agent runs, or its output is checked or merged: it can still end without a person.
        public var inFlight = false
    }

    /// A run of the drain that paused before all its drained batches ended.
    public struct Pause: Equatable, Sendable {
        public var run: String
        public var reason: String
        public var message: String?
    }

    public var id: String
    public var outcomes: [Outcome]
    public var pauses: [Pause] = []

    public var isFinished: Bool {
        outcomes.allSatisfy { o in o.state != nil || pauses.contains { $0.run == o.run } && !outcomes.contains { $0.run == o.run && $0.inFlight } }
    }
    /// Drained batches that had not ended when the drain ended (their run paused).
    public var notDone: Int { outcomes.filter { $0.state == nil }.count }
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
        var pauses: [Pause] = []
        for r in records {
            guard let run = r.event.run, let seq = after[run], r.seq > seq, !pauses.contains(where: { $0.run == run }) else { continue }
            let e = r.event
            if e.event == EventName.runPaused {
                pauses.append(Pause(run: run, reason: e.reason ?? PauseReason.operatorRequest.rawValue, message: e.string("message")))
            } else if e.event == EventName.controlApplied, e.string("command") == "pause" {
                pauses.append(Pause(run: run, reason: PauseReason.operatorRequest.rawValue, message: nil))
            } else if e.event == EventName.drainCompleted, let reason = e.reason {
                pauses.append(Pause(run: run, reason: reason, message: nil)) // started on a run already paused
            }
        }
        for r in records where r.event.event == EventName.transition {
            guard let id = r.event.batchID, let i = index[id], let seq = after[id.run], r.seq > seq,
                  let to = r.event.to.flatMap(BatchState.init(rawValue:)) else { continue }
            if to == .retryWait || to == .failed { outcomes[i].lastReason = r.event.reason; outcomes[i].lastMessage = r.event.string("message") }
            outcomes[i].state = to.isTerminal ? to : nil
            outcomes[i].inFlight = [.spawning, .running, .validating, .merging].contains(to)
        }
        return DrainReport(id: id, outcomes: outcomes, pauses: pauses)
    }

    public var text: String {
        var lines = ["drain \(id): processed \(processed) of \(outcomes.count), succeeded \(succeeded), failed \(failed), success rate "
                     + (successRate.map { String(Int(($0 * 1000).rounded()) / 10) + "." + String(Int(($0 * 1000).rounded()) % 10) + "%" } ?? "-")
                     + (notDone > 0 ? ", not done \(notDone)" : "")]
        for p in pauses {
            let open = outcomes.filter { $0.run == p.run && $0.state == nil }.count
            lines.append("  run \(p.run) paused (\(p.reason))"
                         + (open > 0 ? ": \(open) not done; resume it (agent-watcher resume \(p.run)) and drain again" : "")
                         + (p.message.map { " \"\($0.prefix(200))\"" } ?? ""))
        }
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
            ("succeeded", n(succeeded)), ("failed", n(failed)), ("notDone", n(notDone)),
            ("successRate", successRate.map(JSONValue.number) ?? .null),
            ("paused", .array(pauses.map { p in
                .object([("run", .string(p.run)), ("reason", .string(p.reason)), ("message", p.message.map(JSONValue.string) ?? .null)])
            })),
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
        var pauses: [Pause] = []
        for p in json["paused"]?.arrayValue ?? [] {
            guard let run = p["run"]?.stringValue, let reason = p["reason"]?.stringValue else { return nil }
            pauses.append(Pause(run: run, reason: reason, message: p["message"]?.stringValue))
        }
        self.init(id: id, outcomes: outcomes, pauses: pauses)
    }
}
