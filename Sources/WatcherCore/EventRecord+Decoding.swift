extension EventRecord {
    public struct DecodingError: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    static let standardKeys: Set<String> = ["seq", "ts", "run", "phase", "batch", "attempt", "event", "from", "to", "reason", "crc"]

    /// Parses one line (without its `\n`). Does not check the crc: see `checksumMatches`.
    public static func decode(_ line: ArraySlice<UInt8>) throws -> EventRecord {
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch { throw DecodingError(message: "not JSON: \(error)") }
        guard let members = value.objectValue else { throw DecodingError(message: "not a JSON object") }
        guard let seq = value["seq"]?.intValue, seq >= 0 else { throw DecodingError(message: "no \"seq\"") }
        guard let ts = value["ts"]?.stringValue else { throw DecodingError(message: "no \"ts\"") }
        guard let name = value["event"]?.stringValue else { throw DecodingError(message: "no \"event\"") }
        var e = Event(event: name, run: value["run"]?.stringValue, phase: value["phase"]?.stringValue,
                      batch: value["batch"]?.intValue, attempt: value["attempt"]?.intValue,
                      from: value["from"]?.stringValue, to: value["to"]?.stringValue,
                      reason: value["reason"]?.stringValue)
        for (key, v) in members where !standardKeys.contains(key) {
            switch v {
            case .number(let d):
                e.details.append(.init(key, d == d.rounded() && abs(d) < 9e15 ? .int(Int(d)) : .double(d)))
            case .string(let s): e.details.append(.init(key, .string(s)))
            case .bool(let b): e.details.append(.init(key, .bool(b)))
            case .array(let list): e.details.append(.init(key, .strings(list.compactMap(\.stringValue))))
            default: continue
            }
        }
        return EventRecord(seq: UInt64(seq), ts: ts, event: e)
    }
}
