import Testing
@testable import WatcherCore

@Suite struct CRC32Tests {
    /// Bytes that are not a repeating pattern, so a wrong shift cannot pass by symmetry.
    static func bytes(_ count: Int, seed: UInt32) -> [UInt8] {
        var x = seed | 1
        return (0..<count).map { _ in
            x ^= x << 13; x ^= x >> 17; x ^= x << 5
            return UInt8(truncatingIfNeeded: x)
        }
    }

    @Test(arguments: [(0, 0), (0, 1), (1, 0), (1, 1), (7, 9), (64, 3), (1000, 1), (3, 4096), (65_537, 100_003), (12_345, 0)])
    func combiningTwoChecksumsIsTheChecksumOfTheJoinedBytes(lengthA: Int, lengthB: Int) {
        let a = CRC32Tests.bytes(lengthA, seed: 7), b = CRC32Tests.bytes(lengthB, seed: 11)
        #expect(CRC32.combine(CRC32.checksum(a), CRC32.checksum(b), lengthB: b.count) == CRC32.checksum(a + b))
    }

    @Test func combiningAManyPartFileInOrderGivesItsChecksum() {
        let parts = (0..<20).map { CRC32Tests.bytes(($0 * 7919) % 5000, seed: UInt32($0 + 1)) }
        var crc = CRC32.checksum([UInt8]())
        for p in parts { crc = CRC32.combine(crc, CRC32.checksum(p), lengthB: p.count) }
        #expect(crc == CRC32.checksum(parts.flatMap { $0 }))
        #expect(CRC32.combine(0xCBF4_3926, 0, lengthB: 0) == 0xCBF4_3926) // nothing appended
    }
}
