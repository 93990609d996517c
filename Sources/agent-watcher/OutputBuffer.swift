import Glibc

/// Standard output written in 64 KiB blocks rather than one `write` per line (a pipe reader gets
/// the same bytes, much faster). `flush()` before waiting.
final class OutputBuffer {
    private var bytes: [UInt8] = []
    static let blockSize = 64 * 1024

    init() { bytes.reserveCapacity(Self.blockSize * 2) }

    func line<C: Collection>(_ text: C) where C.Element == UInt8 {
        bytes.append(contentsOf: text)
        bytes.append(0x0A)
        if bytes.count >= Self.blockSize { flush() }
    }

    func line(_ text: String) { line(text.utf8) }

    func flush() {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; break } // a closed pipe: nothing more can be shown
            offset += n
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
