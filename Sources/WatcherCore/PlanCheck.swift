/// A spec (and its items) compared with the plan the log fixed: what may be applied (changed
/// settings, appended items, appended phases) and what must be refused (anything that would
/// move an item to another batch or change what was merged).
public struct PlanCheck: Equatable, Sendable {
    public struct Refusal: Equatable, Sendable, CustomStringConvertible {
        public var key: String
        public var logged: String
        public var now: String
        public var why: String
        public var description: String { "\(key): the log fixed \(logged) when the run started; the spec now has \(now) (\(why))" }
    }

    public struct Change: Equatable, Sendable, CustomStringConvertible {
        public var key: String
        public var old: String?
        public var new: String?
        public var description: String { "\(key): \(old ?? "(unset)") -> \(new ?? "(unset)")" }
    }

    public var refusals: [Refusal] = []
    public var changes: [Change] = []
    /// Items after the logged ones: they become new batches.
    public var appendedItems = 0
    /// Phases after the logged ones: their batches are new.
    public var appendedPhases = 0

    public var isAllowed: Bool { refusals.isEmpty }
    public var extendsPlan: Bool { appendedItems > 0 || appendedPhases > 0 }

    /// Compares what the spec asks for (`now`, whose segments are ignored: only its item ids
    /// count) with what the log fixed.
    public static func compare(logged: PlanFacts, batchSize: Int, itemIDs: [String],
                               phases: [PlanFacts.PhaseShape], settings: [String: String]) -> PlanCheck {
        var check = PlanCheck()
        func refuse(_ key: String, _ old: String, _ new: String, _ why: String) {
            check.refusals.append(Refusal(key: key, logged: old, now: new, why: why))
        }
        if batchSize != logged.batchSize {
            refuse("batchSize", "\(logged.batchSize)", "\(batchSize)", "items would move to other batches")
        }
        let n = logged.itemCount
        if itemIDs.count < n {
            refuse("items", "\(n) items", "\(itemIDs.count)", "items were removed; merged batches would no longer match")
        } else if let digest = logged.itemsDigest, PlanFacts.digest(itemIDs[..<n]) != digest {
            let last = logged.lastItem.map { " ending with \"\($0)\"" } ?? ""
            refuse("items", "\(n) items\(last)", "different ids among the first \(n)",
                   "items were reordered, renamed or replaced; only items appended at the end can be added")
        } else {
            check.appendedItems = itemIDs.count - n
        }
        for (i, old) in logged.phases.enumerated() {
            guard i < phases.count else {
                refuse("phases", logged.phases.map(\.id).joined(separator: ", "), phases.map(\.id).joined(separator: ", "),
                       "phase \"\(old.id)\" was removed")
                break
            }
            let new = phases[i]
            if new.id != old.id {
                refuse("phases[\(i)].id", "\"\(old.id)\"", "\"\(new.id)\"", "a phase was inserted, removed or renamed")
                break
            }
            for (key, a, b) in [("output.strategy", old.strategy, new.strategy), ("input", old.input, new.input),
                                ("output.file", old.file, new.file)] {
                if let a, a != b { // older logs did not record it: nothing to compare
                    refuse("phases[\(i)].\(key)", "\"\(a)\"", b.map { "\"\($0)\"" } ?? "(unset)", "what was merged would change")
                }
            }
        }
        if check.refusals.isEmpty { check.appendedPhases = max(0, phases.count - logged.phases.count) }
        if !logged.settings.isEmpty {
            for key in Set(logged.settings.keys).union(settings.keys).sorted() where logged.settings[key] != settings[key] {
                check.changes.append(Change(key: key, old: logged.settings[key], new: settings[key]))
            }
        }
        return check
    }

    /// The refusal as a person reads it: each key with the logged and the new value, and the
    /// two ways on.
    public func refusalMessage(run: String) -> [String] {
        refusals.map(\.description) + [
            "run \"\(run)\" cannot take this spec: put the keys above back as they were logged, "
                + "or start the run under a new name (\"run\": \"\(run)-2\") to begin a new plan",
        ]
    }
}
