#if canImport(Glibc)
import Glibc
#endif

/// Signalling, reaping and inspecting processes and process groups.
public enum ProcessControl {
    /// Sends `signal` to every process in group `pgid`. Returns false if the
    /// group no longer has any process (`ESRCH`), which is not an error.
    /// A `pgid` of 0 or 1 is refused (`EINVAL`): `kill(0)` and `kill(-1)` would
    /// signal our own group or every process we may signal.
    ///
    /// The corresponding C function is `kill(-pgid, signal)`.
    @discardableResult
    public static func signalGroup(_ pgid: pid_t, _ signal: Int32) throws -> Bool {
        guard pgid > 1 else { throw SystemError(operation: "kill", path: "group \(pgid)", errno: .invalidArgument) }
        do {
            _ = try valueOrErrno("kill", path: "group \(pgid)") { kill(-pgid, signal) }
            return true
        } catch Errno.noSuchProcess {
            return false
        }
    }

    /// Sends `signal` to one process. Returns false if it no longer exists.
    ///
    /// The corresponding C function is `kill`.
    @discardableResult
    public static func signal(_ pid: pid_t, _ signal: Int32) throws -> Bool {
        guard pid > 1 else { throw SystemError(operation: "kill", path: "pid \(pid)", errno: .invalidArgument) }
        do {
            _ = try valueOrErrno("kill", path: "pid \(pid)") { kill(pid, signal) }
            return true
        } catch Errno.noSuchProcess {
            return false
        }
    }

    /// Reaps every child that has ended, without waiting. Empty when none has
    /// (or when there are no children at all).
    ///
    /// This reaps *any* child of the process, including ones started by other
    /// code (and, for a subreaper, orphaned grandchildren): callers should
    /// expect pids they do not know.
    ///
    /// The corresponding C function is `waitpid(-1, &status, WNOHANG)`.
    public static func reapAny() throws -> [(pid: pid_t, status: ExitStatus)] {
        var reaped: [(pid: pid_t, status: ExitStatus)] = []
        while true {
            var status: Int32 = 0
            let pid: pid_t
            do {
                pid = try valueOrErrno("waitpid") { waitpid(-1, &status, WNOHANG) }
            } catch Errno.noChild {
                return reaped
            }
            if pid == 0 { return reaped }
            reaped.append((pid: pid, status: ExitStatus(waitStatus: status)))
        }
    }

    /// Reaps `pid` if it has ended, without waiting; `nil` if it still runs.
    ///
    /// The corresponding C function is `waitpid(pid, &status, WNOHANG)`.
    public static func reap(_ pid: pid_t) throws -> ExitStatus? {
        var status: Int32 = 0
        let result = try valueOrErrno("waitpid", path: "pid \(pid)") { waitpid(pid, &status, WNOHANG) }
        return result == 0 ? nil : ExitStatus(waitStatus: status)
    }

    /// Waits for child `pid` to end and reaps it.
    ///
    /// The corresponding C function is `waitpid(pid, &status, 0)`.
    public static func waitBlocking(_ pid: pid_t) throws -> ExitStatus {
        var status: Int32 = 0
        _ = try valueOrErrno("waitpid", path: "pid \(pid)") { waitpid(pid, &status, 0) }
        return ExitStatus(waitStatus: status)
    }

    /// Whether any process (zombies included, until reaped) is in group `pgid`.
    ///
    /// The corresponding C function is `kill(-pgid, 0)`.
    public static func isGroupAlive(_ pgid: pid_t) -> Bool {
        guard pgid > 1 else { return false }
        return kill(-pgid, 0) == 0 || Errno.current != .noSuchProcess
    }

    /// Whether process `pid` exists (zombies included).
    ///
    /// The corresponding C function is `kill(pid, 0)`.
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || Errno.current != .noSuchProcess
    }

    /// The process group of `pid`, or `nil` if it does not exist.
    ///
    /// The corresponding C function is `getpgid`.
    public static func processGroup(of pid: pid_t) -> pid_t? {
        let pgid = getpgid(pid)
        return pgid < 0 ? nil : pgid
    }

    /// When `pid` started, in clock ticks since boot (field 22 of
    /// `/proc/<pid>/stat`). With the pid, it names a process even after the pid
    /// is reused. `nil` if the process does not exist.
    public static func startTime(of pid: pid_t) -> UInt64? {
        guard let fields = statFields(of: pid), fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// Every process whose process group is `pgid`, found by reading `/proc/*/stat`.
    public static func processes(inGroup pgid: pid_t) throws -> [pid_t] {
        try FileSystem.listDirectory("/proc").compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry.name), let fields = statFields(of: pid), fields.count > 2 else { return nil }
            return pid_t(fields[2]) == pgid ? pid : nil
        }.sorted()
    }

    /// Makes this process the reaper of its orphaned descendants: a grandchild
    /// whose parent dies becomes our child (and ``reapAny()`` will see it)
    /// instead of init's.
    ///
    /// The corresponding C function is `prctl(PR_SET_CHILD_SUBREAPER, 1)`.
    public static func becomeChildSubreaper() throws {
        guard let prctl = GNU.prctl else { throw SystemError(operation: "prctl", errno: .notImplemented) }
        _ = try valueOrErrno("prctl") { prctl(GNU.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }
    }

    /// Asks for `signal` when the parent dies (even by SIGKILL), then checks the parent is still
    /// `parent`: if it died before the request, returns false (the caller should exit now).
    ///
    /// The corresponding C function is `prctl(PR_SET_PDEATHSIG, signal)`.
    public static func dieWithParent(_ parent: pid_t, signal: Int32 = SIGTERM) throws -> Bool {
        guard let prctl = GNU.prctl else { throw SystemError(operation: "prctl", errno: .notImplemented) }
        _ = try valueOrErrno("prctl") { prctl(GNU.PR_SET_PDEATHSIG, UInt(signal), 0, 0, 0) }
        return getppid() == parent
    }

    /// A descriptor that becomes readable when `pid` ends (any process, not only
    /// children), to poll alongside others.
    ///
    /// The corresponding C function is `pidfd_open`.
    public static func openPIDFD(_ pid: pid_t) throws -> FileDescriptor {
        guard let pidfdOpen = GNU.pidfd_open else {
            throw SystemError(operation: "pidfd_open", errno: .notImplemented)
        }
        let fd = try valueOrErrno("pidfd_open", path: "pid \(pid)") { pidfdOpen(pid, 0) }
        return FileDescriptor(owning: fd, path: "pidfd \(pid)")
    }

    /// The fields of `/proc/<pid>/stat` after the command name, which is in
    /// parentheses and may itself hold spaces and `)`: index 0 is field 3 (state).
    static func statFields(of pid: pid_t) -> [Substring]? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/stat") else { return nil }
        return parseStatFields(String(decoding: bytes, as: UTF8.self))
    }

    /// The pure part of ``statFields(of:)``.
    static func parseStatFields(_ text: String) -> [Substring]? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
            .map { $0.hasSuffix("\n") ? $0.dropLast() : $0 }
    }
}

extension ProcessControl {
    /// The environment a process was started with (`/proc/<pid>/environ`), or nil when it is
    /// gone or not ours to read.
    public static func environment(of pid: pid_t) -> [String: String]? {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile("/proc/\(pid)/environ") } catch { return nil }
        var result: [String: String] = [:]
        for entry in bytes.split(separator: 0) {
            guard let eq = entry.firstIndex(of: 0x3D) else { continue }
            result[String(decoding: entry[entry.startIndex..<eq], as: UTF8.self)] =
                String(decoding: entry[(eq + 1)...], as: UTF8.self)
        }
        return result
    }

    /// Every live process (other than this one) whose environment `matching` accepts, with it.
    public static func processes(whoseEnvironment matching: ([String: String]) -> Bool) throws -> [(pid: pid_t, environment: [String: String])] {
        let me = getpid()
        return try FileSystem.listDirectory("/proc").compactMap { entry -> (pid_t, [String: String])? in
            guard let pid = pid_t(entry.name), pid != me, let env = environment(of: pid), matching(env) else { return nil }
            return (pid, env)
        }.sorted { $0.0 < $1.0 }
    }

    /// Every live process (other than this one) whose environment has `name=value`.
    public static func processes(withEnvironment name: String, equalTo value: String) throws -> [pid_t] {
        let me = getpid()
        return try FileSystem.listDirectory("/proc").compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry.name), pid != me, environment(of: pid)?[name] == value else { return nil }
            return pid
        }.sorted()
    }
}

extension ProcessControl {
    /// Whether process group `pgid` has a member that has not exited. Unlike ``isGroupAlive(_:)``
    /// a zombie does not count: its parent (maybe an init that reaps slowly) will reap it, but
    /// it runs nothing. Cheap when the group is empty; reads `/proc` otherwise.
    public static func hasLiveMembers(_ pgid: pid_t) -> Bool {
        guard isGroupAlive(pgid) else { return false }
        do {
            return try processes(inGroup: pgid).contains { pid in
                guard let fields = statFields(of: pid), let state = fields.first else { return false }
                return state != "Z" && state != "X"
            }
        } catch {
            return true // cannot tell: assume it lives, the caller escalates to SIGKILL in time
        }
    }
}
