#if canImport(Glibc)
import Glibc
#endif

/// Reads a file's lines in large chunks into one reused buffer: never the whole file at once,
/// no array per line. The event log's readers (replay, `tail`, `status`) go through it.
public enum LineReader {
    /// Bytes read per `pread` (a line longer than this grows the buffer).
    public static let chunkSize = 4 << 20

    /// Calls `body(line, end)` for each complete line (without its `\n`) from `start` up to
    /// `end` (the end of the file when nil), in order; `end` in the call is the file offset
    /// just past that line's `\n`. The line's bytes are valid only during the call. Returns the
    /// offset just past the last complete line: bytes after it (a line without its newline)
    /// are not handed out.
    ///
    /// The corresponding C functions are `pread` and `memchr`.
    @discardableResult
    public static func forEachLine(_ fd: FileDescriptor, from start: Int = 0, to end: Int? = nil,
                                   chunkSize: Int = LineReader.chunkSize,
                                   _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws -> Int {
        var capacity = max(16, chunkSize)
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var filled = 0            // bytes held in `buffer`
        var bufferOffset = start  // the file offset of buffer[0]
        var readOffset = start
        while true {
            if filled == capacity { // one line longer than the buffer: make room for more of it
                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                bigger.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = bigger
                capacity *= 2
            }
            let want = end.map { min(capacity - filled, $0 - readOffset) } ?? (capacity - filled)
            if want <= 0 { break }
            let n = try valueOrErrno("pread", path: fd.path) {
                pread(fd.rawValue, buffer + filled, want, off_t(readOffset))
            }
            if n == 0 { break }
            filled += n
            readOffset += n
            var lineStart = 0
            while lineStart < filled, let found = memchr(buffer + lineStart, 0x0A, filled - lineStart) {
                let nl = UnsafeMutablePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - buffer
                try body(UnsafeBufferPointer(start: buffer + lineStart, count: nl - lineStart), bufferOffset + nl + 1)
                lineStart = nl + 1
            }
            if lineStart > 0 {
                memmove(buffer, buffer + lineStart, filled - lineStart) // the ranges may overlap
                filled -= lineStart
                bufferOffset += lineStart
            }
        }
        return bufferOffset
    }

    /// The bytes of the file from `offset` to its end (a short tail: the torn end of a log).
    public static func bytes(_ fd: FileDescriptor, from offset: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var at = offset
        while true {
            let chunk = try [UInt8](unsafeUninitializedCapacity: 1 << 16) { p, count in
                count = 0
                count = try valueOrErrno("pread", path: fd.path) { pread(fd.rawValue, p.baseAddress, 1 << 16, off_t(at)) }
            }
            if chunk.isEmpty { return out }
            out += chunk
            at += chunk.count
        }
    }
}
