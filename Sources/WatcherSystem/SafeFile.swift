#if canImport(Glibc)
import Glibc
#endif

/// Reads a file that someone else dropped into a watched folder, refusing
/// anything that is not a plain, reasonably sized, regular file, without ever
/// blocking or following a symbolic link.
public enum SafeFile {
    /// What ``readDropped(_:limit:)`` found.
    public enum Outcome: Equatable, Sendable {
        /// The whole file, and its status as seen before reading.
        case contents([UInt8], FileStatus)
        /// Not read, because of what the file is.
        case refused(Refusal)
        /// Nothing is at the path (any more).
        case vanished
        /// Any other failure.
        case failed(SystemError)
    }

    /// Why a file was refused.
    public enum Refusal: Equatable, Hashable, Sendable, CustomStringConvertible {
        case symlink, fifo, device, socket, directory
        case tooLarge(size: Int64, limit: Int)
        /// The file has other names (`st_nlink > 1`): a hard link to a file elsewhere.
        case hardLinked(links: UInt64)
        /// A folder on the way (the path given) is a symbolic link.
        case symlinkedFolder(String)
        case other(String)

        public var description: String {
            switch self {
            case .symlink: return "is a symbolic link"
            case .fifo: return "is a FIFO (named pipe)"
            case .device: return "is a device"
            case .socket: return "is a socket"
            case .directory: return "is a directory"
            case .tooLarge(let size, let limit): return "is \(size) bytes, over the \(limit)-byte limit"
            case .hardLinked(let n): return "has \(n) hard links (a link to a file that may live elsewhere)"
            case .symlinkedFolder(let folder): return "is in a folder reached through the symbolic link \(folder)"
            case .other(let reason): return reason
            }
        }

        init?(kind: FileKind) {
            switch kind {
            case .regular: return nil
            case .symlink: self = .symlink
            case .fifo: self = .fifo
            case .characterDevice, .blockDevice: self = .device
            case .socket: self = .socket
            case .directory: self = .directory
            case .unknown: self = .other("is of an unknown file type")
            }
        }
    }

    /// Reads `path` if it is a regular file of at most `limit` bytes.
    ///
    /// The kind is checked with `lstat` before opening (so a device is never
    /// opened), then the file is opened with `O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC`
    /// (a symbolic link swapped in meanwhile fails with `ELOOP`; a FIFO cannot
    /// block) and checked again with `fstat` before any byte is read. A file that
    /// grows past `limit` while being read is refused too.
    ///
    /// The corresponding C functions are `lstat`, `open`, `fstat` and `read`.
    public static func readDropped(_ path: String, limit: Int) -> Outcome {
        read(path, beneath: nil, limit: limit)
    }

    /// Like ``readDropped(_:limit:)``, with every folder of `path` resolved beneath `root`
    /// (no symbolic link followed at any component), and a file with more than one hard link
    /// refused (the Postfix pickup rule: a link to a file outside the root is not read).
    public static func readDropped(_ path: String, beneath root: RootDirectory, limit: Int) -> Outcome {
        read(path, beneath: root, limit: limit)
    }

    private static func read(_ path: String, beneath root: RootDirectory?, limit: Int) -> Outcome {
        do {
            let fd: FileDescriptor
            if let root {
                if let link = root.symlinkedComponent(of: path) {
                    return link == path ? .refused(.symlink) : .refused(.symlinkedFolder(link))
                }
                if let refusal = Refusal(kind: try root.lstat(path).kind) { return .refused(refusal) }
                fd = try root.open(path, O_RDONLY | O_NONBLOCK)
            } else {
                if let refusal = Refusal(kind: try FileSystem.lstat(path).kind) {
                    return .refused(refusal)
                }
                fd = try FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
            }
            let status = try fd.stat()
            if let refusal = Refusal(kind: status.kind) {
                return .refused(refusal)
            }
            if root != nil && status.linkCount > 1 {
                return .refused(.hardLinked(links: status.linkCount))
            }
            if status.size > Int64(limit) {
                return .refused(.tooLarge(size: status.size, limit: limit))
            }
            var bytes: [UInt8] = []
            while true {
                let chunk = try fd.read(upTo: min(64 * 1024, limit + 1 - bytes.count))
                if chunk.isEmpty { break }
                bytes.append(contentsOf: chunk)
                if bytes.count > limit {
                    return .refused(.tooLarge(size: try fd.stat().size, limit: limit))
                }
            }
            try fd.close()
            return .contents(bytes, status)
        } catch let error as SystemError {
            switch error.errno {
            case .noSuchFile: return .vanished
            case .tooManySymlinks: return .refused(.symlink)
            default: return .failed(error)
            }
        } catch {
            return .failed(SystemError(operation: "read", path: path, errno: .io))  // not reached: only SystemError is thrown
        }
    }
}
