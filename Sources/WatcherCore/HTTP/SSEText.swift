/// Bytes of a growing text file (an agent's log) as Server-Sent Events, so a page can append
/// them as text. Pure: the dashboard reads the file, this decides what is sent.
public enum SSEText {
    /// The longest prefix of `bytes` that ends on a whole UTF-8 scalar (an incomplete sequence
    /// at the end waits for the rest; a sequence that can never complete is sent as it is).
    public static func completeUTF8Prefix(_ bytes: ArraySlice<UInt8>) -> Int {
        let n = bytes.count
        guard n > 0 else { return 0 }
        // Look back at most 3 bytes for the lead byte of the last sequence.
        var i = n - 1
        var back = 0
        while back < 3, i > 0, bytes[bytes.startIndex + i] & 0xC0 == 0x80 { i -= 1; back += 1 }
        let lead = bytes[bytes.startIndex + i]
        let need = lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        if lead & 0xC0 == 0x80 || lead < 0x80 { return n } // ASCII end, or stray continuation bytes
        return n - i >= need ? n : i
    }

    /// One event carrying `text`: `id: <id>`, then each line of the text as a `data:` line (a
    /// line break is LF, CRLF or CR, as the EventSource parser splits them), so the client's
    /// `event.data` is the text with its line breaks as LF.
    public static func frame(_ text: ArraySlice<UInt8>, id: Int) -> [UInt8] {
        var out = Array("id: \(id)\ndata: ".utf8)
        out.reserveCapacity(out.count + text.count + 16)
        var i = text.startIndex
        while i < text.endIndex {
            let b = text[i]
            if b == 0x0D || b == 0x0A {
                out += Array("\ndata: ".utf8)
                if b == 0x0D, i + 1 < text.endIndex, text[i + 1] == 0x0A { i += 1 }
            } else {
                out.append(b)
            }
            i += 1
        }
        out += [0x0A, 0x0A]
        return out
    }

    /// What to send of `bytes` (new bytes of the file, starting at file offset `offset`): the
    /// event and how many bytes it covers; nil when nothing whole can be sent yet.
    public static func next(_ bytes: ArraySlice<UInt8>, offset: Int) -> (frame: [UInt8], used: Int)? {
        let used = completeUTF8Prefix(bytes)
        guard used > 0 else { return nil }
        return (frame(bytes.prefix(used), id: offset + used), used)
    }
}
