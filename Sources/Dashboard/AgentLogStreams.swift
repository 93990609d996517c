import Glibc
import WatcherCore
import WatcherSystem

/// The agent logs being followed by `/api/log/…` streams: one inotify descriptor, one watch
/// per followed file (shared by every stream on it), woken only when the file is written.
final class AgentLogStreams {
    /// One stream's place in its file.
    struct Tail {
        var path: String
        var watch: Int32
        /// File offset of the first byte not yet sent.
        var offset: Int
    }

    let inotify: Inotify
    /// Watch descriptor → the connections following that file.
    private var followers: [Int32: Set<Int32>] = [:]

    init() throws { inotify = try Inotify() }

    var fileDescriptor: Int32 { inotify.fileDescriptor }

    /// Starts following `path` for connection `fd`; the watch is in place before the first read,
    /// so no write between the two is missed.
    func follow(_ path: String, from offset: Int, fd: Int32) throws -> Tail {
        let watch = try inotify.addWatch(path, mask: [.modify, .closeWrite])
        followers[watch, default: []].insert(fd)
        return Tail(path: path, watch: watch, offset: offset)
    }

    func stop(_ tail: Tail, fd: Int32) {
        followers[tail.watch]?.remove(fd)
        if followers[tail.watch]?.isEmpty == true {
            followers[tail.watch] = nil
            inotify.removeWatch(tail.watch) // false when the kernel dropped it already (file gone)
        }
    }

    /// The connections whose files changed since the last call.
    func changed() throws -> Set<Int32> {
        var fds = Set<Int32>()
        for e in try inotify.readEvents() { fds.formUnion(followers[e.watch] ?? []) }
        return fds
    }

    /// The last `limit` bytes of the file (whole UTF-8 scalars at the end) and the file offset
    /// just after them: where a stream for the page showing them starts.
    static func tail(_ path: String, limit: Int) throws -> (bytes: [UInt8], end: Int) {
        let fd = try FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW)
        defer { _ = try? fd.close() } // read-only descriptor: a failed close loses nothing
        let size = Int(try fd.stat().size)
        let start = max(0, size - limit)
        try fd.seek(to: Int64(start))
        var bytes: [UInt8] = []
        while bytes.count < size - start {
            let chunk = try fd.read(upTo: size - start - bytes.count)
            if chunk.isEmpty { break }
            bytes += chunk
        }
        bytes.removeLast(bytes.count - SSEText.completeUTF8Prefix(bytes[...]))
        return (bytes, start + bytes.count)
    }

    /// The bytes of `tail`'s file from its offset on, at most `limit`; a file cut shorter than
    /// the offset is read again from its start.
    static func read(_ tail: inout Tail, limit: Int) throws -> [UInt8] {
        let fd = try FileDescriptor.open(tail.path, O_RDONLY | O_NOFOLLOW)
        defer { _ = try? fd.close() } // read-only descriptor: a failed close loses nothing
        let size = Int(try fd.stat().size)
        if size < tail.offset { tail.offset = 0 }
        guard size > tail.offset else { return [] }
        try fd.seek(to: Int64(tail.offset))
        var bytes: [UInt8] = []
        let want = min(size - tail.offset, limit)
        while bytes.count < want {
            let chunk = try fd.read(upTo: want - bytes.count)
            if chunk.isEmpty { break }
            bytes += chunk
        }
        return bytes
    }
}
