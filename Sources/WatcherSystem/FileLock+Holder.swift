#if canImport(Glibc)
import Glibc
#endif

extension FileLock {
    /// The pid of the process holding a `flock` on `path`, or nil when nobody holds one, found
    /// without taking the lock and without writing anything: the kernel's lock table
    /// `/proc/locks` lists every `FLOCK` with its holder's pid and the file's device and inode.
    ///
    /// The corresponding C functions are `stat` and `read` of `/proc/locks`.
    public static func holder(_ path: String) throws -> pid_t? {
        let status: FileStatus
        do { status = try FileSystem.stat(path) } catch let e as SystemError where e.errno == .noSuchFile { return nil }
        let table = String(decoding: try FileSystem.readFile("/proc/locks"), as: UTF8.self)
        return holder(inTable: table, device: status.device, inode: status.inode)
    }

    /// The `FLOCK` holder of the file `device`/`inode` in a `/proc/locks` text (blocked waiters,
    /// the `->` lines, are not holders).
    public static func holder(inTable table: String, device: UInt64, inode: UInt64) -> pid_t? {
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff)
        let minor = (device & 0xff) | ((device >> 12) & ~0xff)
        for line in table.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            // "1: FLOCK  ADVISORY  WRITE 1234 fe:00:388779 0 EOF"
            guard f.count >= 6, f[1] == "FLOCK", let pid = pid_t(f[4]) else { continue }
            let id = f[5].split(separator: ":")
            guard id.count == 3, UInt64(id[2]) == inode,
                  UInt64(id[0], radix: 16) == major, UInt64(id[1], radix: 16) == minor else { continue }
            return pid
        }
        return nil
    }
}
