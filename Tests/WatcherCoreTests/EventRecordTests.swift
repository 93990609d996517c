import Testing
@testable import WatcherCore

private let sample = EventRecord(seq: 42, ts: "2026-11-21T08:00:00.123456Z", event: Event(
    event: EventName.transition, run: "spa_for_eng", phase: "3", batch: 7, attempt: 2,
    from: "validating", to: "retry_wait", reason: "validation_failed", details: [
        .init("errors", .int(3)),
        .init("failed_items", .strings(["S0125", "S0131"])),
        .init("message", .string("say \"hi\"\n\u{01}")),
        .init("retry_in_ms", .int(2000)),
        .init("ok", .bool(true)),
        .init("ratio", .double(0.25)),
    ]))

/// The line without its `\n`.
private func body(_ r: EventRecord) -> [UInt8] {
    var line = r.encoded()
    #expect(line.last == 0x0A)
    line.removeLast()
    return line
}

@Suite struct EventRecordTests {
    @Test func encodesKeysInTheFixedOrderWithTheCRCLast() {
        let text = String(decoding: sample.encoded(), as: UTF8.self)
        #expect(text == #"{"seq":42,"ts":"2026-11-21T08:00:00.123456Z","run":"spa_for_eng","phase":"3","batch":7,"attempt":2,"event":"batch.transition","from":"validating","to":"retry_wait","reason":"validation_failed","errors":3,"failed_items":["S0125","S0131"],"message":"say \"hi\"\n\u0001","retry_in_ms":2000,"ok":true,"ratio":0.25,"crc":"6c7156c7"}"# + "\n")
        // Exactly one line: no raw newline inside.
        #expect(sample.encoded().filter { $0 == 0x0A }.count == 1)
    }

    @Test func absentFieldsAreLeftOut() {
        let r = EventRecord(seq: 1, ts: "2026-01-01T00:00:00.000000Z", event: Event(event: EventName.watcherStarted))
        #expect(String(decoding: r.encoded(), as: UTF8.self)
            == #"{"seq":1,"ts":"2026-01-01T00:00:00.000000Z","event":"watcher.started","crc":"634f5467"}"# + "\n")
    }

    @Test(arguments: [
        sample,
        EventRecord(seq: 0, ts: "x", event: Event(event: "watcher.started")),
        EventRecord(seq: UInt64(1) << 53, ts: "2026-11-21T08:00:00.000000Z", event: Event(
            event: EventName.runCompleted, run: "r", details: [.init("merged", .int(-5)), .init("list", .strings([]))])),
        EventRecord(seq: 9, ts: "t", event: Event(event: "agent.exited", run: "ünï/cødé", phase: "1", batch: 1, attempt: 1,
                                                 reason: "tab\there", details: [.init("big", .int(1 << 52))])),
    ])
    func decodeGivesBackWhatWasEncoded(_ r: EventRecord) throws {
        let line = body(r)
        #expect(EventRecord.checksumMatches(line[...]))
        #expect(try EventRecord.decode(line[...]) == r)
    }

    @Test func aDetailNamedLikeAStandardKeyIsNotConfusedWithIt() throws {
        // Details keep their order and their kinds.
        let r = EventRecord(seq: 3, ts: "t", event: Event(event: "e", details: [
            .init("z", .int(1)), .init("a", .string("1")), .init("m", .bool(false)), .init("d", .double(-1.5)),
        ]))
        let decoded = try EventRecord.decode(body(r)[...])
        #expect(decoded.event.details.map(\.key) == ["z", "a", "m", "d"])
        #expect(decoded.event.details.map(\.value) == [.int(1), .string("1"), .bool(false), .double(-1.5)])
    }

    @Test func aDoubleWithNoFractionComesBackAsAnInt() throws {
        // Known limit of the text form: 2.0 and 2 are the same JSON number.
        let r = EventRecord(seq: 3, ts: "t", event: Event(event: "e", details: [.init("d", .double(2))]))
        #expect(try EventRecord.decode(body(r)[...]).event.int("d") == 2)
    }

    @Test func everyFlippedByteIsDetected() {
        let line = body(sample)
        for i in line.indices {
            var bad = line
            bad[i] ^= 0x01
            #expect(!EventRecord.checksumMatches(bad[...]), "byte \(i) flipped")
        }
    }

    @Test func everyTruncatedLineIsDetected() {
        let line = body(sample)
        for n in 0..<line.count {
            #expect(!EventRecord.checksumMatches(line[..<n]), "first \(n) bytes")
        }
        #expect(EventRecord.checksumMatches(line[...]))
    }

    @Test(arguments: [0, 1, 17, 200, 4096])
    func zerosAreNotARecord(count: Int) {
        #expect(!EventRecord.checksumMatches([UInt8](repeating: 0, count: count)[...]))
        #expect(throws: EventRecord.DecodingError.self) { try EventRecord.decode([UInt8](repeating: 0, count: count)[...]) }
    }

    @Test func aLineWithAWrongButWellFormedCRCIsDetected() {
        var line = body(sample)
        let crcStart = line.count - 10
        line.replaceSubrange(crcStart..<(crcStart + 8), with: Array("00000000".utf8))
        #expect(!EventRecord.checksumMatches(line[...]))
    }

    @Test func checksumWorksOnASliceInsideALargerBuffer() {
        let buffer = body(sample) + [0x0A] + body(sample) + [0x0A]
        let n = body(sample).count
        #expect(EventRecord.checksumMatches(buffer[(n + 1)..<(2 * n + 1)]))
        #expect(!EventRecord.checksumMatches(buffer[1..<(n + 1)]))
    }

    @Test(arguments: [
        ("{}", "no \"seq\""),
        (#"{"seq":1}"#, "no \"ts\""),
        (#"{"seq":1,"ts":"t"}"#, "no \"event\""),
        (#"{"seq":-1,"ts":"t","event":"e"}"#, "no \"seq\""),
        ("[1]", "not a JSON object"),
    ])
    func decodeNamesWhatIsMissing(text: String, message: String) {
        do {
            _ = try EventRecord.decode(Array(text.utf8)[...])
            Issue.record("decoded \(text)")
        } catch let error as EventRecord.DecodingError {
            #expect(error.message == message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: [
        #"{"seq":1,"ts":"t","event":"e","run":"r","run":"second","x":1,"x":2}"#,         // first of a key counts; details keep both
        #"{ "seq" : 7 , "ts":"t", "event" : "batch.transition", "from":"pending","to":"spawning" }"#,
        #"{"s\u0065q":3,"ts":"t","event":"e","k\u00e9y":"v"}"#,                         // escaped keys
        #"{"seq":3,"ts":"t","event":"e","run":5,"phase":null,"batch":1.5,"attempt":"2"}"#, // fixed keys of other kinds
        #"{"seq":3,"ts":"t","event":"e","o":{"a":[1,{"b":2}]},"n":null,"l":["a",1,"b"],"f":-2.5e3}"#,
        #"{"seq":3,"ts":"2026-11-21T08:00:00.123456Z","event":"agent.exited","reason":"naïve \"q\" \u00e9\ud83d\ude00"}"#,
        #"{"seq":3,"ts":"t","event":"batch.transitionX","to":"merged2","from":"merge"}"#, // near the known names
        #"{"seq":3,"ts":"t","event":"e","crc":"x","crc":"y"}"#,
    ])
    func memberByMemberDecodingEqualsTheWholeTree(text: String) throws {
        #expect(try EventRecord.decode(Array(text.utf8)[...]) == treeDecode(text))
    }

    @Test(arguments: [
        #"{"seq":1,"ts":"t","event":"e",}"#, #"{"seq":1 "ts":"t"}"#, #"{"seq":1,"ts":"t","event":"e"} x"#,
        #"{"seq":1,"ts":"t","event":"e""#, #"{"seq":1,"ts":"t","event":"e\x"}"#, #"{"seq":01}"#, "{\"a\u{01}\":1}",
    ])
    func memberByMemberDecodingRejectsWhatTheParserRejects(text: String) throws {
        let bytes = Array(text.utf8)
        let expected: String
        do { _ = try JSONParser.parse(bytes); Issue.record("the parser accepts \(text)"); return } catch { expected = "not JSON: \(error)" }
        do { _ = try EventRecord.decode(bytes[...]); Issue.record("decoded \(text)") } catch let e as EventRecord.DecodingError {
            #expect(e.message == expected)
        }
    }

    @Test func decodeRejectsNonJSON() {
        #expect(throws: EventRecord.DecodingError.self) { try EventRecord.decode(Array("{\"seq\":".utf8)[...]) }
    }

    // MARK: EventFormatter.seconds

    @Test(arguments: [
        ("1970-01-01T00:00:00.000000Z", 0.0),
        ("1970-01-01T00:00:01.500000Z", 1.5),
        ("1969-12-31T23:59:59.000000Z", -1.0),
        ("2000-02-29T23:59:59.000000Z", 951_868_799.0),
        ("2000-03-01T00:00:00.000000Z", 951_868_800.0),
        ("2026-11-21T08:00:00.123456Z", 1_795_248_000.123456),
        ("2100-03-01T00:00:00.000000Z", 4_107_542_400.0),
    ])
    func secondsOfKnownTimestamps(ts: String, expected: Double) throws {
        let s = try #require(EventFormatter.seconds(ts))
        #expect(abs(s - expected) < 1e-6)
    }

    @Test(arguments: ["", "2026-11-21T08:00:00Z", "2026-11-21 08:00:00.123456Z", "2026-11-21T08:00:00.123456+",
                      "2026-11-21T08:00:0x.123456Z", "2026-11-21T08:00:00.1234567Z"])
    func secondsRejectsOtherShapes(ts: String) {
        #expect(EventFormatter.seconds(ts) == nil)
    }

    @Test(arguments: [false, true])
    func formatterLineEqualsThePartsJoined(explain: Bool) {
        let records = [
            sample,
            EventRecord(seq: 1, ts: "2026-11-21T08:00:00.123456Z", event: Event(event: EventName.watcherStarted, details: [
                .init("pid", .int(9)), .init("runs", .strings(["a"])), .init("root", .string("/r")), .init("quiet", .bool(false))])),
            EventRecord(seq: 2, ts: "short", event: Event(event: "message.delivered", run: "r", from: "a", to: "b")),
            EventRecord(seq: 3, ts: "2026-11-21T08:00:00.1Z", event: Event(event: EventName.transition, run: "ünï", phase: "3",
                batch: 7, attempt: 2, from: "running", to: "retry_wait", reason: "timeout", details: [
                .init("failed_items", .int(3)), .init("failed_items", .strings(Array(repeating: "S1", count: 9))),
                .init("list", .strings((1...10).map(String.init))), .init("name", .string("tab\there \u{202E}x")),
                .init("message", .string(String(repeating: "é", count: 200)))])),
            EventRecord(seq: 4, ts: "2026-11-21T08:00:00.123456Z", event: Event(event: "file.rejected", phase: "1", batch: 2)),
        ]
        for r in records { #expect(EventFormatter.line(r, explain: explain) == joinedLine(r, explain: explain)) }
    }

    @Test func formatterLineForATransition() {
        let line = EventFormatter.line(sample)
        #expect(line.hasPrefix("08:00:00.123  spa_for_eng 3/7 #2  validating → retry_wait  (validation_failed; errors=3;"))
        #expect(line.contains("failed: S0125, S0131"))
        #expect(line.contains("retry_in_ms=2000"))
    }

    @Test func formatterLineForATurnTransitionReadsLikeABatchTransition() {
        let r = EventRecord(seq: 5, ts: "2026-11-21T08:00:00.123456Z", event: Event(
            event: EventName.turnTransition, run: "r", phase: "3", batch: 1, attempt: 2, from: "spawning", to: "retry_wait",
            reason: "agent_crashed", details: [
                .init("thread", .string("t-3-1")), .init("message", .string("m-20261121T080000-1")),
                .init("responder", .string("flaky")), .init("sender", .string("3/1")), .init("turn", .int(1))]))
        let line = EventFormatter.line(r)
        #expect(line == "08:00:00.123  r 3/1 #2  turn t-3-1/m-20261121T080000-1 flaky  spawning → retry_wait  (agent_crashed; sender=3/1; turn=1)")
        #expect(!line.contains("error:"))
        // A new turn has no state before: "new".
        let queued = EventRecord(seq: 6, ts: "2026-11-21T08:00:00.123456Z", event: Event(
            event: EventName.turnTransition, run: "r", to: "queued", reason: "query", details: [
                .init("thread", .string("t-1")), .init("message", .string("m-1")), .init("responder", .string("reviewer"))]))
        #expect(EventFormatter.line(queued) == "08:00:00.123  r  turn t-1/m-1 reviewer  new → queued  (query)")
        // A batch transition's message is still its error.
        #expect(EventFormatter.line(EventRecord(seq: 7, ts: "2026-11-21T08:00:00.123456Z", event: Event(
            event: EventName.transition, run: "r", from: "a", to: "b", details: [.init("message", .string("bad"))])))
            .hasSuffix("a → b  (error: bad)"))
    }

    // MARK: checksums

    @Test func crc32KnownVectors() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.hex(CRC32.checksum(Array("123456789".utf8))) == "cbf43926")
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.hex(0x1F) == "0000001f")
    }

    @Test func crc32EightBytesAtATimeEqualsTheBytewiseOne() {
        // The bytewise CRC-32 from its definition, against every length and start below 40.
        func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                c ^= UInt32(b)
                for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            }
            return c ^ 0xFFFF_FFFF
        }
        var rng = SystemRandomNumberGenerator()
        let data = (0..<80).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for start in 0..<9 {
            for length in 0..<40 {
                let slice = data[start..<(start + length)]
                #expect(CRC32.checksum(slice) == reference(slice), "start \(start), length \(length)")
            }
        }
        #expect(CRC32.checksum(AnySequenceOfBytes(data)) == reference(data[...]), "a collection without contiguous storage")
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (String(repeating: "x", count: 55), "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"),
        (String(repeating: "x", count: 56), "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"),
        (String(repeating: "x", count: 64), "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"),
    ])
    func sha256KnownVectors(text: String, hex: String) {
        #expect(SHA256.hex(Array(text.utf8)) == hex)
        #expect(SHA256.digest(Array(text.utf8)).count == 32)
    }

    @Test func sha256OfAMillionAs() {
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

/// A collection of bytes without contiguous storage (the CRC's fallback path).
private struct AnySequenceOfBytes: Collection {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var startIndex: Int { 0 }
    var endIndex: Int { bytes.count }
    func index(after i: Int) -> Int { i + 1 }
    subscript(i: Int) -> UInt8 { bytes[i] }
}

/// What `EventRecord.decode` did before it read member by member: the whole line as a `JSONValue`.
private func treeDecode(_ text: String) throws -> EventRecord {
    let value = try JSONParser.parse(text)
    let members = try #require(value.objectValue)
    var e = Event(event: try #require(value["event"]?.stringValue), run: value["run"]?.stringValue,
                  phase: value["phase"]?.stringValue, batch: value["batch"]?.intValue, attempt: value["attempt"]?.intValue,
                  from: value["from"]?.stringValue, to: value["to"]?.stringValue, reason: value["reason"]?.stringValue)
    for (key, v) in members where !EventRecord.standardKeys.contains(key) {
        switch v {
        case .number(let d): e.details.append(.init(key, d == d.rounded() && abs(d) < 9e15 ? .int(Int(d)) : .double(d)))
        case .string(let s): e.details.append(.init(key, .string(s)))
        case .bool(let b): e.details.append(.init(key, .bool(b)))
        case .array(let list): e.details.append(.init(key, .strings(list.compactMap(\.stringValue))))
        default: continue
        }
    }
    return EventRecord(seq: UInt64(try #require(value["seq"]?.intValue)), ts: try #require(value["ts"]?.stringValue), event: e)
}

/// `EventFormatter.line` as it was written before it appended to one string: parts joined.
private func joinedLine(_ r: EventRecord, explain: Bool) -> String {
    let e = r.event
    let time = r.ts.count >= 23 ? String(r.ts.dropFirst(11).prefix(12)) : r.ts
    var where_ = e.run ?? ""
    if let p = e.phase, let b = e.batch { where_ += " \(p)/\(b)" }
    if let a = e.attempt { where_ += " #\(a)" }
    var what: String
    switch e.event {
    case EventName.transition: what = "\(e.from ?? "?") → \(e.to ?? "?")"
    case let name where name.hasPrefix("message."): what = "\(name) \(e.from ?? "?") → \(e.to ?? "?")"
    default: what = e.event
    }
    var extras: [String] = []
    if let reason = e.reason { extras.append(explain ? EventFormatter.reasonWords[reason].map { "\(reason): \($0)" } ?? reason : reason) }
    for d in e.details where !["checksum", "failed_items", "from", "root", "runs", "fingerprint", "source"].contains(d.key) {
        switch d.value {
        case .int(let v): extras.append("\(d.key)=\(v)")
        case .string(let v): extras.append(d.key == "message" ? "error: \(v.prefix(120))" : "\(d.key)=\(v)")
        case .bool(let v): if v { extras.append(d.key) }
        case .double(let v): extras.append("\(d.key)=\(v)")
        case .strings(let v): extras.append("\(d.key)=\(v.prefix(8).joined(separator: ","))\(v.count > 8 ? ",…" : "")")
        }
    }
    if let items = e.strings("failed_items"), !items.isEmpty {
        extras.append("failed: " + items.prefix(6).joined(separator: ", ") + (items.count > 6 ? ", …" : ""))
    }
    var s = time + "  " + where_
    if !where_.isEmpty { s += "  " }
    s += what
    if !extras.isEmpty { s += "  (" + extras.joined(separator: "; ") + ")" }
    return DerivedName.terminalSafe(s, keepingNewlines: false)
}
