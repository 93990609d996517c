import Glibc
import Testing
@testable import AgentWatcher
import WatcherCore
import WatcherSystem

/// Runs `body` with a new private folder under /tmp, removed afterwards.
func withTemporaryFolder<T>(_ body: (String) throws -> T) throws -> T {
    let dir = try FileSystem.makeTemporaryDirectory("/tmp/agent-watcher-tests-")
    defer { try? FileSystem.removeTree(dir) }
    return try body(dir)
}

func writeBytes(_ path: String, _ bytes: [UInt8]) throws {
    try FileSystem.createDirectory(Path.parent(path))
    try AtomicFile.replace(path, with: bytes)
}

func writeText(_ path: String, _ text: String) throws { try writeBytes(path, Array(text.utf8)) }

func appendBytes(_ path: String, _ bytes: [UInt8]) throws {
    let fd = try FileDescriptor.open(path, O_WRONLY | O_APPEND)
    try fd.writeAll(bytes)
    try fd.close()
}

private let events: [Event] = [
    Event(event: EventName.watcherStarted, details: [.init("pid", .int(123)), .init("runs", .strings(["r"]))]),
    Event(event: EventName.transition, run: "r", phase: "1", batch: 1, attempt: 1, from: "pending", to: "spawning"),
    Event(event: EventName.transition, run: "r", phase: "1", batch: 1, attempt: 1, from: "spawning", to: "running",
          details: [.init("pid", .int(4242))]),
    Event(event: EventName.transition, run: "r", phase: "1", batch: 1, attempt: 1, from: "validating", to: "retry_wait",
          reason: "validation_failed", details: [.init("errors", .int(2)), .init("message", .string("a \"quoted\"\nline"))]),
]

private func line(_ seq: UInt64, _ e: Event) -> [UInt8] {
    EventRecord(seq: seq, ts: "2026-11-21T08:00:00.000000Z", event: e).encoded()
}

@Suite struct EventLogTests {
    @Test func writerThenReaderRoundTrip() throws {
        try withTemporaryFolder { dir in
            let path = dir + "/events.jsonl"
            let writer = try EventLogWriter(path: path, nextSeq: 1)
            var observed: [UInt64] = []
            writer.observer = { observed.append($0.seq) }
            let written = try writer.append(Array(events.prefix(3)))
            #expect(written.map(\.seq) == [1, 2, 3])
            #expect(observed == [1, 2, 3])
            #expect(writer.nextSeq == 4)
            #expect(try writer.append([]).isEmpty)
            for r in written { #expect(EventFormatter.seconds(r.ts) != nil, "ts \(r.ts) is in the log's format") }

            // A second writer (a restarted daemon) appends after what is there.
            let again = try EventLogWriter(path: path, nextSeq: 4)
            try again.append(events[3])

            let contents = try EventLogReader.read(path)
            #expect(contents.records.map(\.seq) == [1, 2, 3, 4])
            #expect(contents.records.map(\.event) == events)
            #expect(Array(contents.records.prefix(3)) == written)
            #expect(contents.tornTail.isEmpty)
            let bytes = try FileSystem.readFile(path)
            #expect(contents.goodLength == bytes.count)
            #expect(bytes.filter { $0 == 0x0A }.count == 4)
            #expect(bytes.last == 0x0A)
        }
    }

    @Test func recordsWrittenWithoutSyncAreCarriedByTheNextSync() throws {
        try withTemporaryFolder { dir in
            let path = dir + "/events.jsonl"
            let writer = try EventLogWriter(path: path, nextSeq: 1)
            var observed: [UInt64] = []
            writer.observer = { observed.append($0.seq) }
            try writer.append(Array(events.prefix(2)), sync: false)
            #expect(writer.hasUnsynced)
            #expect(observed.isEmpty, "the observer sees a record only once it is durable")
            #expect(try EventLogReader.read(path).records.map(\.seq) == [1, 2], "written at once, in order")
            try writer.append([events[2]]) // a record that syncs makes every one before it durable
            #expect(!writer.hasUnsynced)
            #expect(observed == [1, 2, 3])
            try writer.append([events[3]], sync: false)
            try writer.syncPending()
            #expect(!writer.hasUnsynced)
            #expect(observed == [1, 2, 3, 4])
            #expect(try EventLogReader.read(path).records.map(\.event) == events)
        }
    }

    @Test func aMissingLogIsEmpty() throws {
        try withTemporaryFolder { dir in
            let contents = try EventLogReader.read(dir + "/nope.jsonl")
            #expect(contents.records.isEmpty && contents.goodLength == 0 && contents.tornTail.isEmpty)
        }
    }

    @Test(arguments: [1, 10, 40])
    func aTruncatedLastLineIsATornTail(keep: Int) throws {
        try withTemporaryFolder { dir in
            let path = dir + "/events.jsonl"
            let good = line(1, events[0]) + line(2, events[1]) + line(3, events[2])
            let torn = Array(line(4, events[3]).prefix(keep))
            try writeBytes(path, good)
            try appendBytes(path, torn)
            let contents = try EventLogReader.read(path)
            #expect(contents.records.map(\.seq) == [1, 2, 3])
            #expect(contents.goodLength == good.count)
            #expect(contents.tornTail == torn)
        }
    }

    @Test func fourKiBOfZerosAfterThePowerWentOutIsATornTail() throws {
        try withTemporaryFolder { dir in
            let path = dir + "/events.jsonl"
            let good = line(1, events[0]) + line(2, events[1])
            try writeBytes(path, good)
            try appendBytes(path, [UInt8](repeating: 0, count: 4096))
            let contents = try EventLogReader.read(path)
            #expect(contents.records.count == 2)
            #expect(contents.records.map(\.event) == Array(events.prefix(2)))
            #expect(contents.goodLength == good.count)
            #expect(contents.tornTail == [UInt8](repeating: 0, count: 4096))
        }
    }

    @Test func zerosEndingInANewlineAreATornTailToo() throws {
        let good = line(1, events[0])
        let tail = [UInt8](repeating: 0, count: 100) + [0x0A] + [UInt8](repeating: 0, count: 20)
        let contents = try EventLogReader.parse(good + tail, path: "mem")
        #expect(contents.records.count == 1)
        #expect(contents.goodLength == good.count)
        #expect(contents.tornTail == tail)
    }

    @Test func aDamagedLastLineIsATornTail() throws {
        var last = line(3, events[2])
        last[20] ^= 0x01
        let good = line(1, events[0]) + line(2, events[1])
        let contents = try EventLogReader.parse(good + last, path: "mem")
        #expect(contents.records.count == 2)
        #expect(contents.goodLength == good.count)
        #expect(contents.tornTail == last)
    }

    @Test(arguments: [2, 3])
    func aDamagedLineFollowedByGoodOnesIsAnErrorNamingIt(badLine: Int) throws {
        try withTemporaryFolder { dir in
            let path = dir + "/events.jsonl"
            var lines = (0..<5).map { line(UInt64($0 + 1), events[$0 % events.count]) }
            lines[badLine - 1][15] ^= 0x20
            try writeBytes(path, lines.flatMap { $0 })
            do {
                _ = try EventLogReader.read(path)
                Issue.record("a damaged line in the middle was accepted")
            } catch let e as EventLogReader.CorruptLine {
                #expect(e.line == badLine)
                #expect(e.path == path)
                #expect(e.problem == "checksum does not match")
                #expect(e.description.hasPrefix("\(path):\(badLine): damaged record"))
                #expect(e.description.contains("keep lines 1-\(badLine - 1)"))
            }
        }
    }

    @Test func zerosInTheMiddleFollowedByGoodLinesAreAnError() throws {
        let bytes = line(1, events[0]) + [UInt8](repeating: 0, count: 64) + [0x0A] + line(2, events[1])
        #expect(throws: EventLogReader.CorruptLine.self) { try EventLogReader.parse(bytes, path: "mem") }
        do { _ = try EventLogReader.parse(bytes, path: "mem") } catch let e as EventLogReader.CorruptLine {
            #expect(e.line == 2)
        }
    }

    @Test func aLineWithAGoodChecksumButNoEventIsAProblemToo() throws {
        // Valid JSON and a matching crc, but not a record: reported like a damaged line.
        var body = Array(#"{"seq":1,"ts":"t""#.utf8)
        body += Array(",\"crc\":\"\(CRC32.hex(CRC32.checksum(body)))\"}\n".utf8)
        do {
            _ = try EventLogReader.parse(body + line(2, events[1]), path: "mem")
            Issue.record("accepted a record without an event")
        } catch let e as EventLogReader.CorruptLine {
            #expect(e.line == 1)
            #expect(e.problem == "no \"event\"")
        }
    }
}
