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
}
