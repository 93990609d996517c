#if canImport(Glibc)
import Glibc
#endif

/// The event bits of `inotify_add_watch` and of `struct inotify_event`'s `mask`.
public struct InotifyMask: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    private init(_ value: some BinaryInteger) {
        self.rawValue = UInt32(truncatingIfNeeded: value)
    }

    // Events.
    /// File was read (`IN_ACCESS`).
    public static var access: InotifyMask { InotifyMask(IN_ACCESS) }
    /// File was written (`IN_MODIFY`).
    public static var modify: InotifyMask { InotifyMask(IN_MODIFY) }
    /// Metadata changed (`IN_ATTRIB`).
    public static var attrib: InotifyMask { InotifyMask(IN_ATTRIB) }
    /// A file opened for writing was closed (`IN_CLOSE_WRITE`).
    public static var closeWrite: InotifyMask { InotifyMask(IN_CLOSE_WRITE) }
    /// A file not opened for writing was closed (`IN_CLOSE_NOWRITE`).
    public static var closeNoWrite: InotifyMask { InotifyMask(IN_CLOSE_NOWRITE) }
    /// File was opened (`IN_OPEN`).
    public static var open: InotifyMask { InotifyMask(IN_OPEN) }
    /// A name was moved out of the watched directory (`IN_MOVED_FROM`).
    public static var movedFrom: InotifyMask { InotifyMask(IN_MOVED_FROM) }
    /// A name was moved into the watched directory (`IN_MOVED_TO`).
    public static var movedTo: InotifyMask { InotifyMask(IN_MOVED_TO) }
    /// A name was created in the watched directory (`IN_CREATE`).
    public static var create: InotifyMask { InotifyMask(IN_CREATE) }
    /// A name was removed from the watched directory (`IN_DELETE`).
    public static var delete: InotifyMask { InotifyMask(IN_DELETE) }
    /// The watched file or directory itself was deleted (`IN_DELETE_SELF`).
    public static var deleteSelf: InotifyMask { InotifyMask(IN_DELETE_SELF) }
    /// The watched file or directory itself was moved (`IN_MOVE_SELF`).
    public static var moveSelf: InotifyMask { InotifyMask(IN_MOVE_SELF) }

    // Bits only the kernel sets in events.
    /// The file system was unmounted (`IN_UNMOUNT`).
    public static var unmount: InotifyMask { InotifyMask(IN_UNMOUNT) }
    /// The event queue overflowed; events were lost (`IN_Q_OVERFLOW`, watch -1).
    public static var queueOverflow: InotifyMask { InotifyMask(IN_Q_OVERFLOW) }
    /// The watch was removed, explicitly or because its file went (`IN_IGNORED`).
    public static var ignored: InotifyMask { InotifyMask(IN_IGNORED) }
    /// The subject of the event is a directory (`IN_ISDIR`).
    public static var isDir: InotifyMask { InotifyMask(IN_ISDIR) }

    // Flags only for inotify_add_watch.
    /// Watch only if the path is a directory (`IN_ONLYDIR`).
    public static var onlyDir: InotifyMask { InotifyMask(IN_ONLYDIR) }
    /// Do not follow a symbolic link at the path (`IN_DONT_FOLLOW`).
    public static var dontFollow: InotifyMask { InotifyMask(IN_DONT_FOLLOW) }
    /// No events for children once unlinked (`IN_EXCL_UNLINK`).
    public static var excludeUnlinked: InotifyMask { InotifyMask(IN_EXCL_UNLINK) }
    /// Add to an existing watch's mask instead of replacing it (`IN_MASK_ADD`).
    public static var maskAdd: InotifyMask { InotifyMask(IN_MASK_ADD) }
    /// Remove the watch after one event (`IN_ONESHOT`).
    public static var oneShot: InotifyMask { InotifyMask(IN_ONESHOT) }

    public var description: String {
        let names: [(InotifyMask, String)] = [
            (.access, "ACCESS"), (.modify, "MODIFY"), (.attrib, "ATTRIB"), (.closeWrite, "CLOSE_WRITE"),
            (.closeNoWrite, "CLOSE_NOWRITE"), (.open, "OPEN"), (.movedFrom, "MOVED_FROM"),
            (.movedTo, "MOVED_TO"), (.create, "CREATE"), (.delete, "DELETE"), (.deleteSelf, "DELETE_SELF"),
            (.moveSelf, "MOVE_SELF"), (.unmount, "UNMOUNT"), (.queueOverflow, "Q_OVERFLOW"),
            (.ignored, "IGNORED"), (.isDir, "ISDIR"), (.onlyDir, "ONLYDIR"), (.dontFollow, "DONT_FOLLOW"),
            (.excludeUnlinked, "EXCL_UNLINK"), (.maskAdd, "MASK_ADD"), (.oneShot, "ONESHOT"),
        ]
        let parts = names.filter { contains($0.0) }.map(\.1)
        return parts.isEmpty ? "[]" : parts.joined(separator: "|")
    }
}
