/// One event as a line for people (`tail`, the demo).
public enum EventFormatter {
    /// What the stream's notation means, for a reader new to it (the demo prints it first).
    public static let legend = """
        Legend: "3/2 #1" is phase 3, batch 2, attempt 1 (#0: a batch that never started); "A → B" is a batch \
        changing state; in brackets, why (a code, then in words) and details. Each "retry_wait → spawning" \
        line is one retry.
        """

    /// Reason codes in words: `line(_:explain: true)` follows the code with these.
    public static let reasonWords: [String: String] = [
        "validation_failed": "the output broke the phase's rules",
        "output_unreadable": "the output could not be read",
        "no_output": "the agent wrote no output",
        "agent_crashed": "the agent crashed",
        "spawn_failed": "the agent could not be started",
        "timeout": "the agent ran past its time limit",
        "transient": "a passing fault",
        "merge_conflict": "the output conflicts with merged items",
        "dependency_failed": "a batch it needs failed",
        "dependency_cancelled": "a batch it needs was cancelled",
        "dependency_skipped": "a batch it needs was skipped",
        "superseded": "its output was already judged invalid, so the still-running agent is stopped to make way for a retry",
        "cancelled": "the operator cancelled the batch",
        "stopped": "the watcher is stopping",
        "watcher_restart": "the watcher restarted",
    ]

    /// The line of a record. With `explain`, a reason code is followed by its words
    /// (``reasonWords``), as the demo and the foreground `run` print.
    public static func line(_ r: EventRecord, explain: Bool = false) -> String {
        // Built by appending to one string (`tail` formats a million of these): no array of
        // parts, no interpolated pieces joined afterwards.
        let e = r.event
        var s = ""
        s.reserveCapacity(192)
        let ts = r.ts.utf8
        var tsText = r.ts
        if ts.count >= 23, tsText.withUTF8({ p in (0..<23).allSatisfy { p[$0] < 0x80 } }) {
            s += r.ts[ts.index(ts.startIndex, offsetBy: 11)..<ts.index(ts.startIndex, offsetBy: 23)]
        } else {
            s += r.ts.count >= 23 ? String(r.ts.dropFirst(11).prefix(12)) : r.ts
        }
        s += "  "
        let whereStart = s.utf8.count
        if let run = e.run { s += run }
        if let p = e.phase, let b = e.batch { s += " "; s += p; s += "/"; s += String(b) }
        if let a = e.attempt { s += " #"; s += String(a) }
        if s.utf8.count > whereStart { s += "  " }
        switch e.event {
        case EventName.transition:
            s += e.from ?? "?"; s += " → "; s += e.to ?? "?"
        case EventName.turnTransition:
            // A responder's turn reads like a batch's transition: which turn, who answers, the step.
            s += "turn "; s += e.string("thread") ?? "?"; s += "/"; s += e.string("message") ?? "?"
            if let responder = e.string("responder") { s += " "; s += responder }
            s += "  "; s += e.from ?? "new"; s += " → "; s += e.to ?? "?"
        case let name where name.hasPrefix("message."):
            s += name; s += " "; s += e.from ?? "?"; s += " → "; s += e.to ?? "?"
        default:
            s += e.event
        }
        var open = false
        func extra() { s += open ? "; " : "  ("; open = true }
        if let reason = e.reason {
            extra()
            s += reason
            if explain, let words = reasonWords[reason] { s += ": "; s += words }
        }
        var failedItems: [String]?, sawFailedItems = false // the first member named so, as `Event.strings`
        for d in e.details {
            switch d.key {
            case "failed_items":
                if !sawFailedItems, case .strings(let v) = d.value { failedItems = v }
                sawFailedItems = true
                continue
            case "checksum", "from", "root", "runs", "fingerprint", "source": continue
            case "thread", "message", "responder": if e.event == EventName.turnTransition { continue } // shown first
            default: break
            }
            switch d.value {
            case .int(let v): extra(); s += d.key; s += "="; s += String(v)
            // A message is text that may quote names itself: shown as it is, not quoted again.
            case .string(let v):
                extra()
                if d.key == "message" { s += "error: "; s += v.prefix(120) } else { s += d.key; s += "="; s += v }
            case .bool(let v): if v { extra(); s += d.key }
            case .double(let v): extra(); s += d.key; s += "="; s += "\(v)"
            case .strings(let v):
                extra(); s += d.key; s += "="; s += v.prefix(8).joined(separator: ","); if v.count > 8 { s += ",…" }
            }
        }
        if let items = failedItems, !items.isEmpty {
            extra()
            s += "failed: "; s += items.prefix(6).joined(separator: ", "); if items.count > 6 { s += ", …" }
        }
        if open { s += ")" }
        return DerivedName.terminalSafe(s, keepingNewlines: false) // one line, whatever a name held
    }

    /// Seconds since the epoch of a `ts` (`2026-11-21T08:00:00.123456Z`), or nil.
    public static func seconds(_ ts: String) -> Double? {
        let u = Array(ts.utf8)
        guard u.count == 27, u[4] == 0x2D, u[7] == 0x2D, u[10] == 0x54, u[13] == 0x3A, u[16] == 0x3A,
              u[19] == 0x2E, u[26] == 0x5A else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard u[i] >= 0x30 && u[i] <= 0x39 else { return nil }; v = v * 10 + Int(u[i] - 0x30) }
            return v
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
              let mi = num(14..<16), let s = num(17..<19), let us = num(20..<26) else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Double(days * 86400 + h * 3600 + mi * 60 + s) + Double(us) / 1e6
    }
}
