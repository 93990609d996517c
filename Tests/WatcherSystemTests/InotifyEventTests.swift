import XCTest
@testable import WatcherSystem

final class InotifyEventTests: XCTestCase {
    /// One raw event as the kernel lays it out: header, then the name padded
    /// with NULs to `paddedLength` bytes (the kernel pads to 16).
    private func raw(_ wd: Int32, _ mask: InotifyMask, cookie: UInt32 = 0, name: String = "", paddedLength: Int? = nil) -> [UInt8] {
        var nameBytes = Array(name.utf8)
        if !name.isEmpty || paddedLength != nil {
            let length = paddedLength ?? ((nameBytes.count + 1 + 15) / 16 * 16)
            nameBytes += [UInt8](repeating: 0, count: length - nameBytes.count)
        }
        var bytes: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
        }
        append(wd)
        append(mask.rawValue)
        append(cookie)
        append(UInt32(nameBytes.count))
        return bytes + nameBytes
    }

    func testSeveralEventsWithPaddedNames() {
        let buffer = raw(1, .closeWrite, name: "a.json")
            + raw(2, [.movedTo], cookie: 77, name: "batch_0001_with_a_longer_name.json")
            + raw(1, [.create, .isDir], name: "sub")
        XCTAssertEqual(buffer.count, 16 + 16 + 16 + 48 + 16 + 16)
        XCTAssertEqual(InotifyEvent.parse(buffer), [
            InotifyEvent(watch: 1, mask: .closeWrite, name: "a.json"),
            InotifyEvent(watch: 2, mask: .movedTo, cookie: 77, name: "batch_0001_with_a_longer_name.json"),
            InotifyEvent(watch: 1, mask: [.create, .isDir], name: "sub"),
        ])
    }

    func testEventWithoutName() {
        let buffer = raw(3, .deleteSelf) + raw(3, .ignored) + raw(-1, .queueOverflow)
        XCTAssertEqual(InotifyEvent.parse(buffer), [
            InotifyEvent(watch: 3, mask: .deleteSelf),
            InotifyEvent(watch: 3, mask: .ignored),
            InotifyEvent(watch: -1, mask: .queueOverflow),
        ])
    }

    func testNameExactlyFillingItsLengthHasNoTerminator() {
        XCTAssertEqual(InotifyEvent.parse(raw(1, .closeWrite, name: "abcd", paddedLength: 4)),
                       [InotifyEvent(watch: 1, mask: .closeWrite, name: "abcd")])
    }

    func testTruncatedTailIsIgnored() {
        let first = raw(1, .closeWrite, name: "a")
        let second = raw(2, .movedTo, name: "second-name")
        for cut in 1..<second.count {
            XCTAssertEqual(InotifyEvent.parse(first + second.prefix(cut)),
                           [InotifyEvent(watch: 1, mask: .closeWrite, name: "a")], "cut at \(cut)")
        }
        XCTAssertEqual(InotifyEvent.parse([]), [])
    }

    func testLengthPointingPastTheEndIsIgnored() {
        var bogus = raw(1, .closeWrite, name: "x")
        bogus[12] = 0xff  // len = 0xff..: far beyond the buffer
        bogus[15] = 0x7f
        XCTAssertEqual(InotifyEvent.parse(bogus), [])
    }

    func testUnalignedBuffer() {
        let bytes = [0xAA] + raw(9, .closeWrite, name: "z")
        let events = bytes.withUnsafeBytes { InotifyEvent.parse(UnsafeRawBufferPointer(rebasing: $0.dropFirst())) }
        XCTAssertEqual(events, [InotifyEvent(watch: 9, mask: .closeWrite, name: "z")])
    }

    func testMaskDescription() {
        XCTAssertEqual(InotifyMask([.create, .isDir]).description, "CREATE|ISDIR")
        XCTAssertEqual(InotifyMask.closeWrite.rawValue, 0x8)
        XCTAssertEqual(InotifyMask.queueOverflow.rawValue, 0x4000)
    }
}
