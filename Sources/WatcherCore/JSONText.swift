/// Small helpers for writing JSON text by hand (the event log, templates). Strings are
/// escaped by ``JSONValue/writeString(_:into:)``, the project's one JSON string escaper.
public enum JSONText {
    /// `s` as a JSON string literal, escaped per RFC 8259.
    public static func quoted(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        JSONValue.writeString(s, into: &out)
        return out
    }
}
