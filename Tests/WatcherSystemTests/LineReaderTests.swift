#if canImport(Glibc)
import Glibc
#endif
import XCTest
import WatcherSystem

final class LineReaderTests: XCTestCase {
    /// Every line, at any chunk size (lines cut by the chunk's end, lines longer than a chunk),
    /// with the offset past each; a last line without its newline is not handed out.
    func testLinesAcrossChunksAndLongerThanAChunk() throws {
        let dir = try TemporaryDirectory()
        defer { try? dir.remove() }
        let lines = ["a", "", "bb", String(repeating: "x", count: 100), "ccc", String(repeating: "y", count: 37), "d"]
        let text = lines.joined(separator: "\n") + "\n" + "unterminated"
        let path = dir.file("log")
        try writeFile(path, text)
        let fd = try FileDescriptor.open(path, O_RDONLY)
        defer { try? fd.close() }
        for chunk in [16, 17, 31, 64, 4096] {
            var got: [String] = [], ends: [Int] = []
            let end = try LineReader.forEachLine(fd, chunkSize: chunk) { line, next in
                got.append(String(decoding: line, as: UTF8.self))
                ends.append(next)
            }
            XCTAssertEqual(got, lines, "chunk \(chunk)")
            var expected: [Int] = [], at = 0
            for l in lines { at += l.utf8.count + 1; expected.append(at) }
            XCTAssertEqual(ends, expected, "chunk \(chunk)")
            XCTAssertEqual(end, at, "chunk \(chunk): the offset past the last complete line")
        }
        // From an offset, up to a limit.
        var got: [String] = []
        let end = try LineReader.forEachLine(fd, from: 2, to: 7, chunkSize: 16) { line, _ in got.append(String(decoding: line, as: UTF8.self)) }
        XCTAssertEqual(got, ["", "bb"])
        XCTAssertEqual(end, 6)
        XCTAssertEqual(try LineReader.bytes(fd, from: text.utf8.count - 12), Array("unterminated".utf8))
    }
}
