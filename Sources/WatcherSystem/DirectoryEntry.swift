/// One entry of a directory listing: its name (not a path) and its kind.
public struct DirectoryEntry: Equatable, Hashable, Sendable {
    public var name: String
    /// The kind as `readdir` reports it, or as `lstat` reports it when the file
    /// system does not fill in `d_type`. Symbolic links are never followed.
    public var kind: FileKind

    public init(name: String, kind: FileKind) {
        self.name = name
        self.kind = kind
    }
}
