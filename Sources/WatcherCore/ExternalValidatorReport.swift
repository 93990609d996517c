/// Turns an external validator command's result into a ``ValidationReport``.
///
/// The contract for validator commands: exit 0 means valid (stdout is
/// ignored). Any other status means invalid; if stdout is JSON of the form
/// `{"errors": [{"type", "item", "message", "suggestion"}], "stats": {...}}`
/// those errors are used (a missing `type` becomes "external", a numeric
/// `item` is turned into text); otherwise stdout's text, trimmed and capped at
/// 4 KB, becomes one "external" error ("validator exited with status N" when empty).
public enum ExternalValidatorReport {
    /// The most stdout text kept in a plain-text error.
    public static let maximumTextBytes = 4096

    public static func parse(exitStatus: Int32, stdout: [UInt8]) -> ValidationReport {
        if exitStatus == 0 { return ValidationReport.from(errors: [], stats: [:]) }
        if let report = structured(stdout) { return report }

        var text = Array(MergePlanner.trimmed(stdout))
        var truncated = false
        if text.count > maximumTextBytes {
            var cut = maximumTextBytes
            // Do not split a UTF-8 sequence.
            while cut > 0, text[cut] & 0xC0 == 0x80 { cut -= 1 }
            text = Array(text[..<cut])
            truncated = true
        }
        var message = String(decoding: text, as: UTF8.self)
        if message.isEmpty {
            message = "validator exited with status \(exitStatus)"
        } else if truncated {
            message += "\n[output truncated]"
        }
        return ValidationReport.from(errors: [
            ValidationError(type: ValidationErrorType.external, item: nil, message: message, suggestion: nil),
        ])
    }

    static func structured(_ stdout: [UInt8]) -> ValidationReport? {
        guard let document = try? JSONParser.parse(stdout),
              let list = document["errors"]?.arrayValue
        else { return nil }
        var errors: [ValidationError] = []
        for entry in list {
            switch entry {
            case .string(let message):
                errors.append(ValidationError(type: ValidationErrorType.external, message: message))
            case .object:
                let type = entry["type"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? ValidationErrorType.external
                let message = entry["message"]?.stringValue ?? entry.description
                errors.append(ValidationError(
                    type: type, item: itemText(entry["item"]), message: message,
                    suggestion: entry["suggestion"]?.stringValue))
            default:
                errors.append(ValidationError(type: ValidationErrorType.external, message: entry.description))
            }
        }
        if errors.isEmpty {
            return nil
        }
        var stats: [String: Int] = [:]
        for member in document["stats"]?.objectValue ?? [] {
            if let number = member.value.intValue { stats[member.key] = number }
        }
        return ValidationReport.from(errors: errors, stats: stats)
    }

    static func itemText(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: return text.isEmpty ? nil : text
        case .number?: return value!.description
        default: return nil
        }
    }
}
