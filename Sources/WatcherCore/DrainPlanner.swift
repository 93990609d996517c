/// Orders failed batches for a drain: failures with no recorded reason first, then agent
/// crashes and missing output, then validation failures, then timeouts; within a class lower
/// phase first, then fewer attempts used. A batch whose last two attempts failed with the same
/// error fingerprint is held back (the same error again is likely), unless forced.
public enum DrainPlanner {
    public struct Entry: Equatable, Sendable {
        public var id: BatchID
        public var priority: Priority
        public var attempts: Int
        public var reason: String?
    }

    public struct HeldBack: Equatable, Sendable {
        public var id: BatchID
        public var why: String
    }

    public struct Plan: Equatable, Sendable {
        public var order: [Entry]
        public var heldBack: [HeldBack]
    }

    /// Drain order by whose fault the last failure was: unknown first, then the agent's
    /// crashes and missing outputs, then invalid outputs, then timeouts.
    public enum Priority: Int, Comparable, Sendable, CustomStringConvertible {
        case unknown = 0, crash, validation, timeout
        public static func < (a: Priority, b: Priority) -> Bool { a.rawValue < b.rawValue }

        public init(_ failureClass: FailureClass?) {
            switch failureClass {
            case nil: self = .unknown
            case .timeout?: self = .timeout
            case .invalidOutput?: self = .validation
            default: self = .crash // agent_crashed, no_output, spawn_failed, and classes of newer logs
            }
        }

        public var description: String {
            switch self {
            case .unknown: return "no recorded reason"
            case .crash: return "agent crash / missing output"
            case .validation: return "validation failure"
            case .timeout: return "timeout"
            }
        }
    }

    public static func plan(_ state: WatcherState, run: String, max: Int? = nil, force: Bool = false) -> Plan {
        guard let plan = state.plans[run] else { return Plan(order: [], heldBack: []) }
        var entries: [Entry] = []
        var held: [HeldBack] = []
        for id in plan.batchIDs {
            guard let b = state.batches[id], b.state == .failed else { continue }
            let prints = b.fingerprints.suffix(2)
            if !force, prints.count == 2, prints.first == prints.last {
                held.append(HeldBack(id: id, why: "its last two attempts failed with the same error (\(b.lastReason ?? "no reason")); use --force to re-queue it anyway"))
                continue
            }
            entries.append(Entry(id: id, priority: Priority(b.lastClass), attempts: b.attempt, reason: b.lastReason))
        }
        entries.sort {
            let pa = plan.phaseIndex($0.id.phase) ?? 0, pb = plan.phaseIndex($1.id.phase) ?? 0
            return ($0.priority.rawValue, pa, $0.attempts, $0.id.index) < ($1.priority.rawValue, pb, $1.attempts, $1.id.index)
        }
        if let max, entries.count > max { entries = Array(entries.prefix(max)) }
        return Plan(order: entries, heldBack: held)
    }

    /// `"<phase>/<batch>"`, as drain events list batches.
    public static func label(_ id: BatchID) -> String { "\(id.phase)/\(id.index)" }

    static func parse(_ label: String, plan: RunPlan) -> BatchID? {
        guard let slash = label.lastIndex(of: "/"), let k = Int(label[label.index(after: slash)...]) else { return nil }
        let phase = String(label[..<slash])
        guard plan.phaseIndex(phase) != nil else { return nil }
        return BatchID(run: plan.run, phase: phase, index: k)
    }

    /// The normalised text of an error, so that "S0003: word 'x' at 12" and the same error at
    /// 13 compare equal: lowercased, digits and quoted text replaced, spaces folded.
    public static func fingerprint(_ report: ValidationReport) -> String {
        let text = report.errors.prefix(5).map { "\($0.type):\($0.message)" }.joined(separator: "|")
        var out = ""
        var inQuote: Character?
        var lastWasSpace = false
        for c in text.lowercased() {
            if let q = inQuote { if c == q { inQuote = nil; out.append("…") }; continue }
            if c == "\"" || c == "'" { inQuote = c; continue }
            if c.isNumber { if out.last != "#" { out.append("#") }; continue }
            if c.isWhitespace { if !lastWasSpace { out.append(" ") }; lastWasSpace = true; continue }
            lastWasSpace = false
            out.append(c)
        }
        return CRC32.hex(CRC32.checksum(Array(out.utf8)))
    }
}
