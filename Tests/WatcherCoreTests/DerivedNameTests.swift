import Testing
@testable import WatcherCore

/// Names derived from hostile names fit in 255 bytes and print safely.
@Suite struct DerivedNameTests {
    @Test(arguments: [0, 1, 200, 240, 250, 255])
    func aDerivedNameAlwaysFits(_ length: Int) {
        let name = String(repeating: "é", count: length / 2) + String(repeating: "n", count: length % 2)
        let fitted = DerivedName.fitting(name, reserving: 28)
        #expect(fitted.utf8.count + 28 <= 255)
        if name.utf8.count + 28 <= 255 { #expect(fitted == name) } else { #expect(fitted.contains("~")) }
        #expect(!fitted.contains("\u{FFFD}"), "cut at a character boundary")
    }

    @Test func twoLongNamesWithTheSameStartStayDifferent() {
        let a = String(repeating: "x", count: 250) + "a"
        let b = String(repeating: "x", count: 250) + "b"
        #expect(DerivedName.fitting(a, reserving: 10) != DerivedName.fitting(b, reserving: 10))
    }

    @Test(arguments: [
        ("plain.json", "plain.json"), ("a\nb", "a\\u{a}b"), ("\u{1B}[31m", "\\u{1b}[31m"), ("back\\slash", "back\\\\slash"),
        ("bell\u{07}", "bell\\u{7}"), ("rtl\u{202E}txt", "rtl\\u{202e}txt"),
    ])
    func escapedShowsControlCharacters(_ raw: String, _ shown: String) {
        #expect(DerivedName.escaped(raw) == shown)
    }

    @Test func bytesThatAreNotUTF8AreShownOneByOne() {
        #expect(DerivedName.shown([0x61, 0xFF, 0x62, 0xC3]) == "a\\xffb\\xc3")
        #expect(DerivedName.shown(Array("ok é".utf8)) == "ok é")
    }

    @Test func terminalSafeKeepsNewlinesOnlyWhenAsked() {
        #expect(DerivedName.terminalSafe("a\nb\u{1B}c") == "a\nb\\u{1b}c")
        #expect(DerivedName.terminalSafe("a\nb", keepingNewlines: false) == "a\\u{a}b")
    }
}
