/// One line of `logs/events.jsonl`: `seq`, `ts`, then the event's fields in a fixed order,
/// absent ones left out, then `crc`, the CRC-32 of every byte of the line before `,"crc":`.
///
///     {"seq":42,"ts":"2026-11-21T08:00:00.123456Z","run":"spa_for_eng","phase":"3","batch":7,"attempt":2,"event":"batch.transition","from":"validating","to":"retry_wait","reason":"validation_failed","errors":3,"crc":"8c1f0a2e"}
public struct EventRecord: Equatable, Sendable {
    /// Bumped when a field changes meaning; written in `watcher.started` as `schema`.
    public static let schemaVersion = 1

    public var seq: UInt64
    public var ts: String
    public var event: Event

    public init(seq: UInt64, ts: String, event: Event) {
        self.seq = seq
        self.ts = ts
        self.event = event
    }

    /// The line, `\n` included.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out += Array("{\"seq\":".utf8) + Array(String(seq).utf8)
        Self.field("ts", ts, &out)
        if let v = event.run { Self.field("run", v, &out) }
        if let v = event.phase { Self.field("phase", v, &out) }
        if let v = event.batch { Self.key("batch", &out); out += Array(String(v).utf8) }
        if let v = event.attempt { Self.key("attempt", &out); out += Array(String(v).utf8) }
        Self.field("event", event.event, &out)
        if let v = event.from { Self.field("from", v, &out) }
        if let v = event.to { Self.field("to", v, &out) }
        if let v = event.reason { Self.field("reason", v, &out) }
        for d in event.details {
            Self.key(d.key, &out)
            Self.append(d.value, to: &out)
        }
        let crc = CRC32.checksum(out)
        out += Array(",\"crc\":\"".utf8) + Array(CRC32.hex(crc).utf8) + Array("\"}\n".utf8)
        return out
    }

    static func key(_ k: String, _ out: inout [UInt8]) {
        out.append(0x2C)
        out += JSONText.quoted(k)
        out.append(0x3A)
    }

    static func field(_ k: String, _ v: String, _ out: inout [UInt8]) {
        key(k, &out)
        out += JSONText.quoted(v)
    }

    static func append(_ v: Event.Value, to out: inout [UInt8]) {
        switch v {
        case .int(let i): out += Array(String(i).utf8)
        case .string(let s): out += JSONText.quoted(s)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .double(let d): out += Array((d.isFinite ? String(d) : "null").utf8)
        case .strings(let list):
            out.append(0x5B)
            for (i, s) in list.enumerated() {
                if i > 0 { out.append(0x2C) }
                out += JSONText.quoted(s)
            }
            out.append(0x5D)
        }
    }

    static let crcMarker = Array(",\"crc\":\"".utf8)

    /// Whether a line (without its `\n`) ends in a `crc` that matches its bytes.
    public static func checksumMatches(_ line: ArraySlice<UInt8>) -> Bool {
        line.withUnsafeBufferPointer { checksumMatches($0) }
    }

    public static func checksumMatches(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let m = crcMarker.count
        let n = line.count
        guard n >= m + 10, line[n - 1] == 0x7D, line[n - 2] == 0x22 else { return false }
        let crcStart = n - 10
        let markerStart = crcStart - m
        for i in 0..<m where line[markerStart + i] != crcMarker[i] { return false }
        var expected: UInt32 = 0
        for i in crcStart..<(crcStart + 8) {
            let b = line[i]
            let digit: UInt8
            switch b {
            case 0x30...0x39: digit = b - 0x30
            case 0x61...0x66: digit = b - 0x61 + 10
            case 0x41...0x46: digit = b - 0x41 + 10
            default: return false
            }
            expected = expected << 4 | UInt32(digit)
        }
        return CRC32.checksum(UnsafeBufferPointer(rebasing: line[0..<markerStart])) == expected
    }
}
