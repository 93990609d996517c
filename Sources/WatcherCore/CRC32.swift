/// CRC-32 (IEEE 802.3, the zlib one). Each event-log line carries it, so a torn or corrupted
/// line is told from a good one. Computed eight bytes at a time (slicing-by-8: eight tables of
/// 256 entries, table k being the CRC of a byte followed by k zero bytes).
public enum CRC32 {
    /// Table k at `k * 256`.
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 {
                let prev = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return t
    }()

    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        if let c = bytes.withContiguousStorageIfAvailable({ update(0xFFFF_FFFF, $0) }) { return c ^ 0xFFFF_FFFF }
        return update(0xFFFF_FFFF, Array(bytes)) ^ 0xFFFF_FFFF
    }

    public static func checksum(_ buffer: UnsafeBufferPointer<UInt8>) -> UInt32 { update(0xFFFF_FFFF, buffer) ^ 0xFFFF_FFFF }

    static func update(_ crc: UInt32, _ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBufferPointer { update(crc, $0) } }

    /// The running (pre- and post-inverted) CRC after `p`.
    static func update(_ crc: UInt32, _ p: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var c = crc
        var i = 0
        let n = p.count
        tables.withUnsafeBufferPointer { t in
            while n - i >= 8 {
                let lo = c ^ (UInt32(p[i]) | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2]) << 16 | UInt32(p[i + 3]) << 24)
                let hi = UInt32(p[i + 4]) | UInt32(p[i + 5]) << 8 | UInt32(p[i + 6]) << 16 | UInt32(p[i + 7]) << 24
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = t[Int((c ^ UInt32(p[i])) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        return c
    }

    /// The CRC-32 of `a + b` from the CRC-32 of `a`, that of `b` and `b`'s length, in
    /// O(log length) (zlib's `crc32_combine`): a main file's checksum after an append, from the
    /// checksum of its unchanged prefix and that of the new bytes, without reading the prefix.
    public static func combine(_ crcA: UInt32, _ crcB: UInt32, lengthB: Int) -> UInt32 {
        multiplyModP(xPower2n(lengthB, 3), crcA) ^ crcB
    }

    /// `x^(2^k)` modulo the polynomial, k = 0...31 (bit-reflected, as the CRC is).
    static let x2nTable: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 32)
        var p: UInt32 = 1 << 30 // x^1
        t[0] = p
        for k in 1..<32 {
            p = multiplyModP(p, p)
            t[k] = p
        }
        return t
    }()

    /// `a * b` modulo the polynomial (reflected).
    static func multiplyModP(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var m: UInt32 = 1 << 31, p: UInt32 = 0, b = b
        while true {
            if a & m != 0 {
                p ^= b
                if a & (m - 1) == 0 { break }
            }
            m >>= 1
            b = b & 1 != 0 ? (b >> 1) ^ 0xEDB8_8320 : b >> 1
        }
        return p
    }

    /// `x^(n * 2^k)` modulo the polynomial.
    static func xPower2n(_ n: Int, _ k: Int) -> UInt32 {
        var p: UInt32 = 1 << 31 // x^0
        var n = n, k = k
        while n > 0 {
            if n & 1 != 0 { p = multiplyModP(x2nTable[k & 31], p) }
            n >>= 1
            k += 1
        }
        return p
    }

    public static func hex(_ value: UInt32) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}
