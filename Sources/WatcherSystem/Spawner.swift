#if canImport(Glibc)
import Glibc
#endif

/// Starts programs with `posix_spawn`: never through a shell, each in a new
/// process group that it leads, with a clean signal state and only stdin,
/// stdout and stderr open.
public enum Spawner {
    /// Signals reset to their default action in the child.
    public static let defaultedSignals: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2]

    /// Starts `request` and returns the child's pid, which is also its process
    /// group id. Reap it with ``ProcessControl``.
    ///
    /// Errors: a program that cannot be found throws
    /// `SystemError(operation: "spawn", path: argv[0], errno: .noSuchFile)`; one
    /// that cannot be executed throws with operation `spawn` and the `execve`
    /// errno; a stdin, output or working directory that cannot be used throws
    /// for that path (`open`, `chdir`).
    ///
    /// The corresponding C function is `posix_spawn`, with
    /// `POSIX_SPAWN_SETPGROUP` (group 0), `POSIX_SPAWN_SETSIGMASK` (empty mask),
    /// `POSIX_SPAWN_SETSIGDEF` (``defaultedSignals``), and file actions `dup2`
    /// for 0-2, `closefrom(3)` and, if asked, `chdir`.
    public static func spawn(_ request: SpawnRequest) throws -> pid_t {
        guard let program = request.argv.first, !program.isEmpty else {
            throw SystemError(operation: "spawn", path: nil, errno: .invalidArgument)
        }
        guard let executable = request.resolvedExecutable() else {
            throw SystemError(operation: "spawn", path: program, errno: .noSuchFile)
        }
        if let directory = request.workingDirectory {
            let status = try FileSystem.stat(directory)
            guard status.kind == .directory else {
                throw SystemError(operation: "chdir", path: directory, errno: .notDirectory)
            }
        }
        guard let addClosefrom = GNU.posix_spawn_file_actions_addclosefrom_np,
              let addChdir = GNU.posix_spawn_file_actions_addchdir_np else {
            throw SystemError(operation: "spawn", path: program, errno: .notImplemented)
        }

        // Opened here, not in the child, so that errors name the right path.
        let input = try aboveStandardStreams(FileDescriptor.open(request.stdinPath ?? "/dev/null", O_RDONLY))
        let output = try aboveStandardStreams(request.outputDescriptor.map { fd in
            FileDescriptor(owning: try valueOrErrno("fcntl", path: request.outputPath) { fcntl(fd, F_DUPFD_CLOEXEC, 3) },
                           path: request.outputPath)
        } ?? FileDescriptor.open(request.outputPath, Spawner.outputFlags, mode: 0o644))
        let errors = try request.errorPath.map { path in
            try aboveStandardStreams(request.errorDescriptor.map { fd in
                FileDescriptor(owning: try valueOrErrno("fcntl", path: path) { fcntl(fd, F_DUPFD_CLOEXEC, 3) }, path: path)
            } ?? FileDescriptor.open(path, Spawner.outputFlags, mode: 0o644))
        }

        var actions = posix_spawn_file_actions_t()
        try zeroOrErrno("posix_spawn_file_actions_init") { posix_spawn_file_actions_init(&actions) }
        defer { posix_spawn_file_actions_destroy(&actions) }
        try zeroOrErrno("posix_spawn_file_actions_adddup2") {
            posix_spawn_file_actions_adddup2(&actions, input.rawValue, STDIN_FILENO)
        }
        try zeroOrErrno("posix_spawn_file_actions_adddup2") {
            posix_spawn_file_actions_adddup2(&actions, output.rawValue, STDOUT_FILENO)
        }
        try zeroOrErrno("posix_spawn_file_actions_adddup2") {
            posix_spawn_file_actions_adddup2(&actions, (errors ?? output).rawValue, STDERR_FILENO)
        }
        try zeroOrErrno("posix_spawn_file_actions_addclosefrom_np") { addClosefrom(&actions, 3) }
        if let directory = request.workingDirectory {
            try zeroOrErrno("posix_spawn_file_actions_addchdir_np", path: directory) { addChdir(&actions, directory) }
        }

        var attributes = posix_spawnattr_t()
        try zeroOrErrno("posix_spawnattr_init") { posix_spawnattr_init(&attributes) }
        defer { posix_spawnattr_destroy(&attributes) }
        let group = request.newSession ? Spawner.setSessionFlag : POSIX_SPAWN_SETPGROUP
        let flags = group | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        try zeroOrErrno("posix_spawnattr_setflags") { posix_spawnattr_setflags(&attributes, Int16(flags)) }
        if !request.newSession {
            try zeroOrErrno("posix_spawnattr_setpgroup") { posix_spawnattr_setpgroup(&attributes, 0) }
        }
        var mask = sigset_t()
        sigemptyset(&mask)
        try zeroOrErrno("posix_spawnattr_setsigmask") { posix_spawnattr_setsigmask(&attributes, &mask) }
        var defaulted = sigset_t()
        sigfillset(&defaulted) // every signal at its default disposition, whatever the daemon ignores
        // glibc's sigfillset leaves out its two internal signals (32 and 33), and its spawn then
        // gives the child SIG_IGN for them: set their bits (signal n is bit n-1) directly.
        withUnsafeMutableBytes(of: &defaulted) { raw in
            raw.storeBytes(of: raw.load(as: UInt64.self) | (1 << 31) | (1 << 32), as: UInt64.self)
        }
        try zeroOrErrno("posix_spawnattr_setsigdefault") { posix_spawnattr_setsigdefault(&attributes, &defaulted) }

        let arguments = CStringArray(request.argv)
        let environment = CStringArray(request.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        var pid: pid_t = 0
        try zeroOrErrno("spawn", path: program) {
            posix_spawn(&pid, executable, &actions, &attributes, arguments.pointers, environment.pointers)
        }
        try input.close()
        try output.close()
        try errors?.close()
        return pid
    }

    /// How an output named by path is opened: appended to, never through a symbolic link at its
    /// name (`ELOOP`), never waiting on a FIFO nobody reads (`ENXIO`).
    static let outputFlags = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK

    /// glibc's `POSIX_SPAWN_SETSID` (`<spawn.h>`), which the Glibc module does not export.
    static let setSessionFlag: Int32 = 0x80

    /// Moves a descriptor that landed on 0, 1 or 2 (the parent runs with one of
    /// them closed) to 3 or above, so the `dup2` actions cannot clobber each other.
    private static func aboveStandardStreams(_ fd: FileDescriptor) throws -> FileDescriptor {
        guard fd.rawValue <= STDERR_FILENO else { return fd }
        let moved = try valueOrErrno("fcntl", path: fd.path) { fcntl(fd.rawValue, F_DUPFD_CLOEXEC, 3) }
        try fd.close()
        return FileDescriptor(owning: moved, path: fd.path)
    }
}

/// A NULL-terminated `char *[]` that lives as long as this object.
private final class CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() {
            pointers[index] = strdup(string)
        }
        pointers[strings.count] = nil
    }

    deinit {
        for index in 0..<count { free(pointers[index]) }
        pointers.deallocate()
    }
}
