/// Escaping of hostile text for the context it lands in. Every string the dashboard shows
/// (agents' logs, validator messages, message bodies, names) goes through one of these.
public enum HTMLEscape {
    /// Element content: `&`, `<`, `>`.
    public static func text(_ s: String) -> String { escape(s, quotes: false) }

    /// A quoted attribute value (`title="…"`): also `"` and `'`.
    public static func attribute(_ s: String) -> String { escape(s, quotes: true) }

    static func escape(_ s: String, quotes: Bool) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where quotes: out += "&quot;"
            case "'" where quotes: out += "&#39;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// JSON inside a `<script type="application/json">` block: `<`, `>` and `&` as `\u003c`,
    /// `\u003e`, `\u0026`, U+2028/U+2029 escaped, so no `</script>` or `<!--` can appear.
    public static func jsonInScript(_ value: JSONValue) -> String {
        var out = ""
        for c in String(decoding: value.serialized(), as: UTF8.self).unicodeScalars {
            switch c {
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
