#if canImport(Glibc)
import Glibc
#endif

/// The kind of a file, from the `S_IFMT` bits of `st_mode` or a `dirent`'s `d_type`.
public enum FileKind: String, Equatable, Hashable, Sendable {
    case regular, directory, symlink, fifo, socket, characterDevice, blockDevice, unknown

    /// Classifies the `S_IFMT` bits of a `st_mode`.
    public init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        default: self = .unknown
        }
    }

    /// Classifies a `dirent`'s `d_type`; `DT_UNKNOWN` gives `nil` (ask `lstat`).
    init?(directoryEntryType type: UInt8) {
        switch Int(type) {
        case DT_REG: self = .regular
        case DT_DIR: self = .directory
        case DT_LNK: self = .symlink
        case DT_FIFO: self = .fifo
        case DT_SOCK: self = .socket
        case DT_CHR: self = .characterDevice
        case DT_BLK: self = .blockDevice
        default: return nil
        }
    }
}

/// A point in time as a file system stores it: seconds and nanoseconds since the epoch.
public struct FileTime: Equatable, Hashable, Comparable, Sendable {
    public var seconds: Int
    public var nanoseconds: Int

    public init(seconds: Int, nanoseconds: Int) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (a: FileTime, b: FileTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }
}

/// The parts of a `struct stat` the daemon uses.
public struct FileStatus: Equatable, Hashable, Sendable {
    /// Size in bytes (`st_size`).
    public var size: Int64
    /// File type (`st_mode & S_IFMT`).
    public var kind: FileKind
    /// Permission bits (`st_mode & 0o7777`).
    public var permissions: mode_t
    /// Last modification (`st_mtim`).
    public var mtime: FileTime
    /// Inode number (`st_ino`).
    public var inode: UInt64
    /// Device number (`st_dev`).
    public var device: UInt64
    /// Number of hard links (`st_nlink`).
    public var linkCount: UInt64

    public init(size: Int64, kind: FileKind, permissions: mode_t = 0o644, mtime: FileTime,
                inode: UInt64, device: UInt64, linkCount: UInt64 = 1) {
        self.size = size
        self.kind = kind
        self.permissions = permissions
        self.mtime = mtime
        self.inode = inode
        self.device = device
        self.linkCount = linkCount
    }

    init(_ s: stat) {
        self.init(
            size: Int64(s.st_size),
            kind: FileKind(mode: s.st_mode),
            permissions: s.st_mode & 0o7777,
            mtime: FileTime(seconds: Int(s.st_mtim.tv_sec), nanoseconds: Int(s.st_mtim.tv_nsec)),
            inode: UInt64(s.st_ino),
            device: UInt64(s.st_dev),
            linkCount: UInt64(s.st_nlink)
        )
    }
}
