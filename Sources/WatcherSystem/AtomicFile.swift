#if canImport(Glibc)
import Glibc
#endif

/// Replaces a file's contents all at once: readers see the old bytes or the new
/// bytes, never a mix, and after a crash the file holds one or the other.
///
/// The new bytes go to `.<basename>.tmp-<pid>-<counter>` in the same directory
/// (created with `O_CREAT|O_EXCL|O_WRONLY|O_CLOEXEC`, mode 0644), are `fsync`ed,
/// renamed over the target, and then the directory is `fsync`ed so that the
/// rename itself is durable.
public enum AtomicFile {
    /// The steps of ``replace(_:with:faultHook:)``; the hook is called right after each.
    public enum Step: String, Equatable, Hashable, Sendable, CaseIterable {
        case tempWritten, tempSynced, renamed, directorySynced
    }

    private static let counter = Locked<UInt64>(0)
    private static let tagStore = Locked<String?>(nil)

    /// A random tag that marks this process's temps as its own (`.aw-<tag>-<pid>-<n>.tmp`),
    /// beyond a name pattern anyone could match: a sweep removes only names carrying a tag it
    /// knows was one of its own (logged). Without a tag, temps are `.<basename>.tmp-<pid>-<n>`.
    public static var tag: String? {
        get { tagStore.withLock { $0 } }
        set { tagStore.withLock { $0 = newValue } }
    }

    /// A new random tag: 16 hex digits.
    public static func randomTag() -> String {
        var g = SystemRandomNumberGenerator()
        let v = g.next() as UInt64
        let hex = String(v, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The name of the next temp of this process, for `basename` (used only without a tag).
    public static func nextTempName(for basename: String) -> String { tempName(for: basename) }

    /// Replaces `path` with `bytes`.
    ///
    /// On any error before the rename the temporary file is removed, the target is
    /// untouched, and the error is rethrown. An error after the rename (the
    /// directory `fsync`) is rethrown too; the target then already holds `bytes`.
    ///
    /// - Parameter faultHook: called after each ``Step``, for crash-injection tests.
    public static func replace(
        _ path: String,
        with bytes: [UInt8],
        faultHook: ((Step) -> Void)? = nil
    ) throws {
        // The folder is opened once (links in `path` followed, as a path is), and the temp, the
        // rename and the folder's fsync all go through its descriptor.
        try replace(path, prefix: 0, of: nil, then: bytes, faultHook: faultHook)
    }

    /// Convenience for UTF-8 text.
    public static func replace(_ path: String, with text: String, faultHook: ((Step) -> Void)? = nil) throws {
        try replace(path, with: Array(text.utf8), faultHook: faultHook)
    }

    /// The temporary name for the next replace of `basename` by this process.
    static func tempName(for basename: String) -> String {
        let n = counter.withLock { value -> UInt64 in
            value += 1
            return value
        }
        if let tag {
            // `.<basename>.tmp-<tag>-<pid>-<n>`, the basename cut (at a character) to fit in 255 bytes.
            let suffix = ".tmp-\(tag)-\(getpid())-\(n)"
            var base = Array(basename.utf8)
            if base.count + suffix.utf8.count + 1 > 255 {
                var keep = 255 - suffix.utf8.count - 1
                while keep > 0 && base[keep] & 0xC0 == 0x80 { keep -= 1 }
                base = Array(base.prefix(keep))
            }
            return "." + String(decoding: base, as: UTF8.self) + suffix
        }
        return ".\(basename).tmp-\(getpid())-\(n)"
    }

    /// Whether `name` is a temp made by a process whose tag is in `tags`.
    public static func isTempName(_ name: String, tags: Set<String>) -> Bool {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard name.hasPrefix("."), parts.count >= 4 else { return false }
        let head = parts.dropLast(3).joined(separator: "-") // `.<basename>.tmp`
        return head.hasSuffix(".tmp") && head.utf8.count > 5 && tags.contains(String(parts[parts.count - 3]))
            && parts.suffix(2).allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 >= "0" && $0 <= "9" } }
    }

    /// Removes the temps in `directory` that carry one of `tags` (regular files only), and
    /// returns their paths. Nothing else is touched, however much it looks like a temp.
    @discardableResult
    public static func removeStaleTemps(in directory: String, tags: Set<String>) throws -> [String] {
        try removeFiles(in: directory) { $0.isUTF8 && isTempName($0.name, tags: tags) }
    }

    /// Whether `name` (a file name, not a path) looks like one of our temporary
    /// files: `.<basename>.tmp-<digits>-<digits>`.
    public static func isTempName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        let marker = Array(".tmp-".utf8)
        guard bytes.first == UInt8(ascii: "."), bytes.count > marker.count + 4 else { return false }
        // The last ".tmp-", with a non-empty basename between the leading dot and it.
        var start = bytes.count - marker.count
        while start >= 2 && !bytes[start..<(start + marker.count)].elementsEqual(marker) {
            start -= 1
        }
        guard start >= 2 else { return false }
        var numbers = bytes[(start + marker.count)...].split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        if numbers.count == 3, let tag = tag, numbers[0].elementsEqual(tag.utf8) { numbers.removeFirst() } // this process's own
        return numbers.count == 2 && numbers.allSatisfy { part in
            !part.isEmpty && part.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
    }

    /// Removes the temporary files a crashed replace left in `directory` and
    /// returns their paths. Call it only while no replace into `directory` is
    /// in progress (at start-up, for example).
    @discardableResult
    public static func removeStaleTemps(in directory: String) throws -> [String] {
        try removeFiles(in: directory) { isTempName($0.name) }
    }

    /// Removes the regular files of `directory` that `isTemp` picks; returns their paths.
    private static func removeFiles(in directory: String, where isTemp: (DirectoryEntry) -> Bool) throws -> [String] {
        var removed: [String] = []
        for entry in try FileSystem.listDirectory(directory) where entry.kind == .regular && isTemp(entry) {
            let path = Path.join(directory, entry.name)
            do {
                try FileSystem.unlink(path)
                removed.append(path)
            } catch Errno.noSuchFile {
                continue  // someone else removed it: nothing left to do
            }
        }
        return removed
    }
}
