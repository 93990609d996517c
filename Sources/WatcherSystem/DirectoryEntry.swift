/// One entry of a directory listing: its name (not a path) and its kind.
public struct DirectoryEntry: Equatable, Hashable, Sendable {
    /// The name, decoded as UTF-8 (bytes that are not UTF-8 become U+FFFD: see ``rawName``).
    public var name: String
    /// The kind as `readdir` reports it, or as `lstat` reports it when the file
    /// system does not fill in `d_type`. Symbolic links are never followed.
    public var kind: FileKind
    /// The name's bytes as the kernel has them.
    public var rawName: [UInt8]

    public init(name: String, kind: FileKind, rawName: [UInt8]? = nil) {
        self.name = name
        self.kind = kind
        self.rawName = rawName ?? Array(name.utf8)
    }

    /// Whether ``name`` is the name itself (the bytes are valid UTF-8).
    public var isUTF8: Bool { Array(name.utf8) == rawName }
}
