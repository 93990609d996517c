import Foundation
import XCTest

/// Checks every line of an event log against the documented format: JSON, `seq` then `ts`
/// first, `seq` counting up by one from 1, `ts` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, an `event`,
/// and `crc` last, the CRC-32 of the bytes before `,"crc":`.
func assertWellFormedLog(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
    XCTAssertEqual(bytes.last, 0x0A, "the log ends in a newline", file: file, line: line)
    let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
    XCTAssertFalse(lines.isEmpty, "the log is empty", file: file, line: line)
    let tsPattern = try NSRegularExpression(pattern: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"#)
    var expectedSeq = 1
    var lastTime = 0.0
    for (n, raw) in lines.enumerated() {
        let text = String(decoding: raw, as: UTF8.self)
        let where_ = "line \(n + 1): \(text)"
        let record: LogRecord
        do { record = try LogRecord(line: text) } catch {
            XCTFail("\(where_): not JSON: \(error)", file: file, line: line)
            continue
        }
        let keys = record.json.keys
        XCTAssertEqual(Array(keys.prefix(2)), ["seq", "ts"], "\(where_): seq and ts come first", file: file, line: line)
        XCTAssertEqual(keys.last, "crc", "\(where_): crc comes last", file: file, line: line)
        XCTAssertTrue(keys.contains("event"), "\(where_): has an event", file: file, line: line)
        XCTAssertEqual(Set(keys).count, keys.count, "\(where_): no key twice", file: file, line: line)
        XCTAssertEqual(record.seq, expectedSeq, "\(where_): seq counts up by one", file: file, line: line)
        expectedSeq = record.seq + 1
        let ts = record.ts
        XCTAssertEqual(tsPattern.numberOfMatches(in: ts, range: NSRange(ts.startIndex..., in: ts)), 1,
                       "\(where_): ts format", file: file, line: line)
        XCTAssertGreaterThanOrEqual(record.time, lastTime - 1, "\(where_): ts does not jump back", file: file, line: line)
        lastTime = max(lastTime, record.time)
        let marker = Array(#","crc":""#.utf8)
        let body = Array(raw)
        if let crc = record["crc"]?.string, body.count > marker.count + 10 {
            let cut = body.count - 10 - marker.count
            XCTAssertEqual(Array(body[cut..<(cut + marker.count)]), marker, "\(where_): crc member at the end", file: file, line: line)
            XCTAssertEqual(crc, String(format: "%08x", crc32(body[..<cut])), "\(where_): crc matches", file: file, line: line)
        } else {
            XCTFail("\(where_): no crc string", file: file, line: line)
        }
    }
}

/// CRC-32 (IEEE 802.3, as zlib), bitwise: the logs here are small.
func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return crc ^ 0xFFFF_FFFF
}

/// The items of a container (`key` member, or the top level) as (id, value), in file order:
/// object members by key, array elements by `idField`; for a jsonl text, one per line.
func containerItems(_ text: String, key: String?, idField: String?, jsonl: Bool = false) throws -> [(id: String, value: JSON)] {
    if jsonl {
        return try text.split(separator: "\n").map { line in
            let v = try JSON.parse(String(line))
            return (v[idField ?? "id"]?.string ?? "?", v)
        }
    }
    let top = try JSON.parse(text)
    guard let container = key.map({ top[$0] }) ?? top else { throw E2EError("no member \(key ?? "") in \(text.prefix(200))") }
    switch container {
    case .object(let members): return members.map { ($0.key, $0.value) }
    case .array(let elements): return elements.map { ($0[idField ?? "id"]?.string ?? "?", $0) }
    default: throw E2EError("the container is neither an object nor an array")
    }
}
