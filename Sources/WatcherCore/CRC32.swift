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

    public static func hex(_ value: UInt32) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}
