#if canImport(Glibc)
import Glibc
#endif

/// Glibc functions and constants that Swift's `Glibc` module does not import,
/// because its umbrella header is compiled without `_GNU_SOURCE` and leaves out
/// `<sys/signalfd.h>`.
///
/// Each function is looked up once by name with `dlsym` and called through a
/// C function pointer of the exact prototype from the glibc headers. A `nil`
/// member means the running glibc lacks the function; callers then report
/// ``Errno/notImplemented``.
///
/// `prctl` is declared variadic in C. Calling it through a fixed-arity pointer
/// with integer arguments is sound on the Linux x86-64 and AArch64 ABIs, the two
/// this package supports.
internal enum GNU {
    typealias StrerrordescNP = @convention(c) (Int32) -> UnsafePointer<CChar>?
    typealias SigabbrevNP = @convention(c) (Int32) -> UnsafePointer<CChar>?
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    typealias Renameat2 = @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32) -> Int32
    typealias Signalfd = @convention(c) (Int32, UnsafePointer<sigset_t>?, Int32) -> Int32
    typealias AddClosefromNP = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    typealias AddChdirNP = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32
    typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32
    typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    /// `statfs(path, buf)`: `struct statfs` is not imported; its first member is `f_type`
    /// (a `long` on x86-64 and AArch64), and the struct is 120 bytes there.
    typealias Statfs = @convention(c) (UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Int32
    typealias Ppoll = @convention(c) (UnsafeMutablePointer<pollfd>?, nfds_t, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32

    static let strerrordesc_np = load("strerrordesc_np", as: StrerrordescNP.self)
    static let sigabbrev_np = load("sigabbrev_np", as: SigabbrevNP.self)
    static let pipe2 = load("pipe2", as: Pipe2.self)
    static let renameat2 = load("renameat2", as: Renameat2.self)
    static let signalfd = load("signalfd", as: Signalfd.self)
    static let posix_spawn_file_actions_addclosefrom_np =
        load("posix_spawn_file_actions_addclosefrom_np", as: AddClosefromNP.self)
    static let posix_spawn_file_actions_addchdir_np =
        load("posix_spawn_file_actions_addchdir_np", as: AddChdirNP.self)
    static let pidfd_open = load("pidfd_open", as: PidfdOpen.self)
    static let prctl = load("prctl", as: Prctl.self)
    static let statfs = load("statfs", as: Statfs.self)
    static let ppoll = load("ppoll", as: Ppoll.self)
    /// `copy_file_range(fd_in, off_in, fd_out, off_out, len, flags)`.
    typealias CopyFileRange = @convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int
    static let copy_file_range = load("copy_file_range", as: CopyFileRange.self)

    /// `RENAME_NOREPLACE` from `<linux/fs.h>`.
    static let RENAME_NOREPLACE: UInt32 = 1
    /// `SFD_NONBLOCK` from `<sys/signalfd.h>` (equal to `O_NONBLOCK`).
    static let SFD_NONBLOCK: Int32 = O_NONBLOCK
    /// `SFD_CLOEXEC` from `<sys/signalfd.h>` (equal to `O_CLOEXEC`).
    static let SFD_CLOEXEC: Int32 = O_CLOEXEC
    /// `sizeof(struct signalfd_siginfo)`; `ssi_signo` is its first `uint32_t`.
    static let signalfdSiginfoSize = 128
    /// `PR_SET_CHILD_SUBREAPER` from `<linux/prctl.h>`.
    static let PR_SET_CHILD_SUBREAPER: Int32 = 36
    /// `PR_SET_PDEATHSIG` from `<linux/prctl.h>`.
    static let PR_SET_PDEATHSIG: Int32 = 1

    fileprivate static func load<F>(_ name: String, as type: F.Type) -> F? {
        guard let symbol = dlsym(nil, name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }
}

extension GNU {
    /// `syscall(2)` called with four integer-sized arguments (sound on x86-64 and AArch64).
    typealias Syscall4 = @convention(c) (Int, Int, UnsafeRawPointer?, UnsafeRawPointer?, Int) -> Int
    static let syscall4 = load("syscall", as: Syscall4.self)
    /// `SYS_openat2`, the same number on x86-64 and AArch64.
    static let SYS_openat2 = 437
    /// `RESOLVE_NO_MAGICLINKS`, `RESOLVE_NO_SYMLINKS` and `RESOLVE_BENEATH` from `<linux/openat2.h>`.
    static let RESOLVE_NO_MAGICLINKS: UInt64 = 0x02
    static let RESOLVE_NO_SYMLINKS: UInt64 = 0x04
    static let RESOLVE_BENEATH: UInt64 = 0x08
}
