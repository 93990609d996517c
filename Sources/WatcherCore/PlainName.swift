/// The one rule for names that become path components and event-log fields: run names,
/// phase ids, control-message ids and agent message names (`id`, `from`, `to`, `reply_to`).
///
/// A plain name is 1 to ``maxBytes`` ASCII letters, digits, `-`, `_` and `.`, starting with a
/// letter or a digit. So it is never hidden (the mailbox ignores dot files), never `.` or
/// `..`, and a file name derived from it (`<phase>_batch_<k>.attempt-<n>.errors.json`,
/// `<id>.json`) fits in a file name's 255 bytes.
public enum PlainName {
    /// The longest plain name, in bytes.
    public static let maxBytes = 64

    /// What the rule says, for messages.
    public static let rule = "ASCII letters, digits, '-', '_' and '.', starting with a letter or digit, at most 64 bytes"

    /// Why `name` is not a plain name, or nil when it is.
    public static func check(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else { return "is empty" }
        if bytes.count > maxBytes { return "is \(bytes.count) bytes long, over \(maxBytes)" }
        if let bad = name.unicodeScalars.first(where: { !isAllowed($0) }) {
            return "contains \(describe(bad)); use \(rule)"
        }
        if !isLetterOrDigit(first) {
            return first == UInt8(ascii: ".") ? "starts with '.' (hidden names are never read); start with a letter or digit"
                : "starts with '\(Unicode.Scalar(first))'; start with a letter or digit"
        }
        return nil
    }

    static func isLetterOrDigit(_ b: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
    }

    static func isAllowed(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (isLetterOrDigit(UInt8(c.value)) || c == "-" || c == "_" || c == ".")
    }

    static func describe(_ c: Unicode.Scalar) -> String {
        c.value < 0x20 || c.value == 0x7F ? "the control character U+\(String(c.value, radix: 16, uppercase: true))"
            : c == " " ? "a space" : "'\(c)'"
    }
}
