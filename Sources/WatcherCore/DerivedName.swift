/// Names the daemon derives from names it was given (a dropped file's `<name>.error` note,
/// `<name>.2` on a collision, temps): each must fit in a file name's 255 bytes, whatever the
/// given name was, and the result must show the name safely in a record or on a terminal.
public enum DerivedName {
    /// The most bytes a file name may have on Linux file systems (`NAME_MAX`).
    public static let maxBytes = 255

    /// `name` itself when `name` plus `reserving` more bytes fits in ``maxBytes``; else its
    /// first bytes (cut at a character boundary) + `~` + the first 16 hex digits of the SHA-256
    /// of the whole name, so two long names that share a beginning still get different names.
    public static func fitting(_ name: String, reserving: Int) -> String {
        let bytes = Array(name.utf8)
        guard bytes.count + reserving > maxBytes else { return name }
        let hash = String(SHA256.hex(bytes).prefix(16))
        var keep = max(0, maxBytes - reserving - hash.utf8.count - 1)
        // Back off to a UTF-8 boundary (a continuation byte is 0b10xx_xxxx).
        while keep > 0 && keep < bytes.count && bytes[keep] & 0xC0 == 0x80 { keep -= 1 }
        return String(decoding: bytes.prefix(keep), as: UTF8.self) + "~" + hash
    }

    /// `name` with control characters (C0, DEL, C1), backslashes and U+FFFD (what a byte that is
    /// not UTF-8 decodes to) written as escapes, so printing it never moves a terminal's cursor
    /// or changes its state: a newline becomes `\u{a}`.
    public static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x5C: out += "\\\\"
            case 0..<0x20, 0x7F, 0x80..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            case 0xFFFD: out += "\\u{fffd}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `text` with every control character but (when `keepingNewlines`) `\n` and `\t` escaped
    /// as in ``escaped(_:)``; backslashes are kept as they are. For whole lines for people.
    public static func terminalSafe(_ text: String, keepingNewlines: Bool = true) -> String {
        if hasNoControl(text) { return text }
        guard text.unicodeScalars.contains(where: { isControl($0) && !(keepingNewlines && ($0 == "\n" || $0 == "\t")) })
        else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) && !(keepingNewlines && (scalar == "\n" || scalar == "\t")) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A quick look at the UTF-8 bytes: true when no scalar of ``isControl(_:)`` can be there
    /// (no byte below 0x20 or 0x7F, no U+0080-U+009F (C2 80-9F), nothing in U+2000-U+207F (E2 80-81)).
    static func hasNoControl(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { p in
            var previous: UInt8 = 0
            for i in 0..<p.count {
                let b = p[i]
                if b < 0x20 || b == 0x7F { return false }
                if previous == 0xC2 && b < 0xA0 { return false }
                if previous == 0xE2 && (b == 0x80 || b == 0x81) { return false }
                previous = b
            }
            return true
        }
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0..<0x20, 0x7F, 0x80..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// `rawName` as text: itself when it is UTF-8, else each byte that is not part of valid
    /// UTF-8 as `\xHH` (so two different non-UTF-8 names never print the same). Then ``escaped(_:)``.
    public static func shown(_ rawName: [UInt8]) -> String {
        if let s = String(validating: rawName, as: UTF8.self) { return escaped(s) }
        var out = ""
        var i = 0
        while i < rawName.count {
            let b = rawName[i]
            let length = b < 0x80 ? 1 : b & 0xE0 == 0xC0 ? 2 : b & 0xF0 == 0xE0 ? 3 : b & 0xF8 == 0xF0 ? 4 : 0
            if length > 0, i + length <= rawName.count,
               let s = String(validating: rawName[i..<(i + length)], as: UTF8.self) {
                out += escaped(s)
                i += length
            } else {
                out += "\\x" + (b < 0x10 ? "0" : "") + String(b, radix: 16)
                i += 1
            }
        }
        return out
    }
}
