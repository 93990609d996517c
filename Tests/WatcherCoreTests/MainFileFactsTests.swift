import Testing
@testable import WatcherCore

/// A main file is the daemon's own when it is what the last `main.written` record wrote, or
/// what that merge read (a crash between the record and the rename).
@Suite struct MainFileFactsTests {
    let before = Array("{\"results\": {}}\n".utf8)
    let after = Array("{\"results\": {\"i1\": 1}}\n".utf8)

    @Test func nothingKnownTakesAnyFile() {
        #expect(MainFileRecord.problem(path: "m", found: nil, record: nil) == nil)
        #expect(MainFileRecord.problem(path: "m", found: [1, 2], record: nil) == nil)
    }

    @Test func whatWasWrittenOrWhatWasReadIsOurs() {
        let record = MainFileRecord(base: MainFileFacts(of: before), written: MainFileFacts(of: after))
        #expect(MainFileRecord.problem(path: "m", found: after, record: record) == nil)
        #expect(MainFileRecord.problem(path: "m", found: before, record: record) == nil, "a crash between the record and the rename")
        let first = MainFileRecord(base: nil, written: MainFileFacts(of: after))
        #expect(MainFileRecord.problem(path: "m", found: nil, record: first) == nil, "the first write cut short")
    }

    @Test func goneShrunkOrChangedIsAProblemThatSaysWhatWasFound() throws {
        let record = MainFileRecord(base: MainFileFacts(of: before), written: MainFileFacts(of: after))
        let gone = try #require(MainFileRecord.problem(path: "m", found: nil, record: record))
        #expect(gone.contains("gone"))
        let shrunk = try #require(MainFileRecord.problem(path: "m", found: [], record: record))
        #expect(shrunk.contains("shrank from \(after.count) to 0"))
        var edited = after
        edited[edited.count - 3] = UInt8(ascii: "2")
        let changed = try #require(MainFileRecord.problem(path: "m", found: edited, record: record))
        #expect(changed.contains("changed or replaced"))
        #expect(changed.contains("resume"))
    }

    @Test func theRecordRoundTrips() {
        for record in [MainFileRecord(base: nil, written: MainFileFacts(of: after)),
                       MainFileRecord(base: MainFileFacts(of: before), written: MainFileFacts(of: after))] {
            #expect(MainFileRecord(Event(event: EventName.mainWritten, details: record.details)) == record)
        }
    }

    @Test func anAppendsRecordCarriesItsOffsetLengthAndCRC() {
        let lines = Array("{\"id\": \"i2\"}\n".utf8)
        let record = MainFileRecord(base: MainFileFacts(of: before), written: MainFileFacts(of: before + lines),
                                    append: .init(offset: before.count, bytes: lines))
        #expect(MainFileRecord(Event(event: EventName.mainWritten, details: record.details)) == record)
        #expect(record.append == .init(offset: before.count, length: lines.count, crc32: CRC32.checksum(lines)))
    }

    @Test func aStartCutsBackOnlyAnAppendCutShort() {
        let lines = Array("{\"id\": \"i2\"}\n{\"id\": \"i3\"}\n".utf8)
        let whole = before + lines
        let record = MainFileRecord(base: MainFileFacts(of: before), written: MainFileFacts(of: whole),
                                    append: .init(offset: before.count, bytes: lines))
        func repair(_ file: [UInt8]) -> MainFileRecord.Repair {
            record.repair(size: file.count) { CRC32.checksum(file[before.count...]) }
        }
        #expect(repair(before) == .none, "not begun: the file is the base")
        #expect(repair(whole) == .none, "complete")
        #expect(repair(Array(whole.prefix(before.count + 5))) == .truncate(to: before.count), "half written")
        var zeros = whole
        for i in before.count..<zeros.count { zeros[i] = 0 }
        #expect(repair(zeros) == .truncate(to: before.count), "the size reached the disk, the bytes did not")
        #expect(repair(whole + Array("{}\n".utf8)) == .none, "longer than the append: not ours to cut")
        #expect(repair(Array(before.prefix(3))) == .none, "shorter than the base: the merge's check says so")
        #expect(MainFileRecord(base: nil, written: MainFileFacts(of: whole)).repair(size: 3) { 0 } == .none, "no append")
    }
}
