extension EventRecord {
    public struct DecodingError: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    static let standardKeys: Set<String> = ["seq", "ts", "run", "phase", "batch", "attempt", "event", "from", "to", "reason", "crc"]

    /// Names that repeat on most lines, handed out as they are instead of as new strings.
    static let knownEvents = JSONObjectReader.KnownNames([
        EventName.transition, EventName.agentExited, EventName.fileArchived, EventName.mainWritten,
        EventName.agentUsage, EventName.runStarted, EventName.watcherStarted])
    static let knownStates = JSONObjectReader.KnownNames(BatchState.allCases.map(\.rawValue))

    /// Parses one line (without its `\n`). Does not check the crc: see `checksumMatches`.
    public static func decode(_ line: ArraySlice<UInt8>) throws -> EventRecord {
        try line.withUnsafeBufferPointer { try decode($0) }
    }

    /// Reads the members one by one (``JSONObjectReader``): the fixed keys straight into the
    /// record, the others as details; no `JSONValue` of the whole line is built.
    public static func decode(_ line: UnsafeBufferPointer<UInt8>) throws -> EventRecord {
        var r = JSONObjectReader(line)
        var seq: JSONValue?, ts: JSONValue?, name: JSONValue?
        var run: String??, phase: String??, from: String??, to: String??, reason: String??
        var batch: JSONValue?, attempt: JSONValue?
        var details: [Event.Detail] = []
        do {
            guard try r.begin() else {
                // Not an object: say whether it is JSON at all, as a whole parse does.
                _ = try JSONParser.parse(line)
                throw DecodingError(message: "not a JSON object")
            }
            // The first member of a key counts, as for `JSONValue`'s subscript.
            while try r.nextKey() {
                if r.keyIs("seq") { let v = try r.readValue(); if seq == nil { seq = v } }
                else if r.keyIs("ts") { let v = try r.readValue(); if ts == nil { ts = v } }
                else if r.keyIs("event") { let v = try r.readString(known: knownEvents); if name == nil { name = v.map { .string($0) } ?? .null } }
                else if r.keyIs("run") { let v = try r.readString(); if run == nil { run = v } }
                else if r.keyIs("phase") { let v = try r.readString(); if phase == nil { phase = v } }
                else if r.keyIs("batch") { let v = try r.readValue(); if batch == nil { batch = v } }
                else if r.keyIs("attempt") { let v = try r.readValue(); if attempt == nil { attempt = v } }
                else if r.keyIs("from") { let v = try r.readString(known: knownStates); if from == nil { from = v } }
                else if r.keyIs("to") { let v = try r.readString(known: knownStates); if to == nil { to = v } }
                else if r.keyIs("reason") { let v = try r.readString(); if reason == nil { reason = v } }
                else if r.keyIs("crc") { _ = try r.readValue() }
                else {
                    let key = r.key
                    switch try r.readValue() {
                    case .number(let d):
                        details.append(.init(key, d == d.rounded() && abs(d) < 9e15 ? .int(Int(d)) : .double(d)))
                    case .string(let s): details.append(.init(key, .string(s)))
                    case .bool(let b): details.append(.init(key, .bool(b)))
                    case .array(let list): details.append(.init(key, .strings(list.compactMap(\.stringValue))))
                    default: continue
                    }
                }
            }
        } catch let e as JSONParseError {
            throw DecodingError(message: "not JSON: \(e)")
        }
        guard let s = seq?.intValue, s >= 0 else { throw DecodingError(message: "no \"seq\"") }
        guard let time = ts?.stringValue else { throw DecodingError(message: "no \"ts\"") }
        guard let event = name?.stringValue else { throw DecodingError(message: "no \"event\"") }
        let e = Event(event: event, run: run ?? nil, phase: phase ?? nil, batch: batch?.intValue, attempt: attempt?.intValue,
                      from: from ?? nil, to: to ?? nil, reason: reason ?? nil, details: details)
        return EventRecord(seq: UInt64(s), ts: time, event: e)
    }
}
