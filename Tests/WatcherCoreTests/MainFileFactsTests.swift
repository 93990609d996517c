import Testing
@testable import WatcherCore

/// A main file is the daemon's own when it matches one of the last two `main.written` records.
@Suite struct MainFileFactsTests {
    let before = Array("{\"results\": {}}\n".utf8)
    let after = Array("{\"results\": {\"i1\": 1}}\n".utf8)

    @Test func nothingKnownTakesAnyFile() {
        #expect(MainFileFacts.problem(path: "m", found: nil, known: []) == nil)
        #expect(MainFileFacts.problem(path: "m", found: [1, 2], known: []) == nil)
    }

    @Test func theLastOrTheOneBeforeIsOurs() {
        let known = [MainFileFacts(of: before), MainFileFacts(of: after)]
        #expect(MainFileFacts.problem(path: "m", found: after, known: known) == nil)
        #expect(MainFileFacts.problem(path: "m", found: before, known: known) == nil, "a crash between the record and the rename")
    }

    @Test func goneShrunkOrChangedIsAProblemThatSaysWhatWasFound() throws {
        let known = [MainFileFacts(of: after)]
        let gone = try #require(MainFileFacts.problem(path: "m", found: nil, known: known))
        #expect(gone.contains("gone"))
        let shrunk = try #require(MainFileFacts.problem(path: "m", found: [], known: known))
        #expect(shrunk.contains("shrank from \(after.count) to 0"))
        var edited = after
        edited[edited.count - 3] = UInt8(ascii: "2")
        let changed = try #require(MainFileFacts.problem(path: "m", found: edited, known: known))
        #expect(changed.contains("changed or replaced"))
        #expect(changed.contains("resume"))
    }

    @Test func theRecordRoundTrips() {
        let facts = MainFileFacts(of: after)
        #expect(MainFileFacts(Event(event: EventName.mainWritten, details: facts.details)) == facts)
    }
}
