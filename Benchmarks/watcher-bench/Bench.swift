import AgentWatcher
import Glibc
import WatcherCore
import WatcherSystem

/// Children to kill if the harness is interrupted (their own process groups outlive it otherwise).
nonisolated(unsafe) var liveGroups = [pid_t](repeating: 0, count: 512)

func registerGroup(_ pid: pid_t) {
    for i in liveGroups.indices where liveGroups[i] == 0 { liveGroups[i] = pid; return }
}

func unregisterGroup(_ pid: pid_t) {
    for i in liveGroups.indices where liveGroups[i] == pid { liveGroups[i] = 0 }
}

func installInterruptCleanup() {
    let handler: @convention(c) (Int32) -> Void = { sig in
        for pid in liveGroups where pid > 0 { kill(-pid, SIGKILL) }
        _exit(128 + sig)
    }
    signal(SIGINT, handler)
    signal(SIGTERM, handler)
    signal(SIGPIPE, SIG_IGN)
}

/// Everything a scenario needs: options, where things are, which peers can run.
final class Bench {
    let quick: Bool
    let repo: String
    let peers: String
    let watcherBinary: String
    /// Scratch folder on the disk (the filesystem a user's root would be on).
    let work: String
    let workFS: String
    /// Scratch folder on tmpfs, for the "what is fsync's share" rows; nil without /dev/shm.
    let tmpfsWork: String?
    let fixtures: String?
    let keep: Bool
    var bin: [String: String] = [:]
    var python: String?
    var watchdogPython: String?
    var inotifywait: String?
    var watchman: String?
    /// Peer -> why it is skipped.
    var skipped: [(String, String)] = []
    let report = Report()

    init(quick: Bool, repo: String, watcherBinary: String, work: String, fixtures: String?, keep: Bool, tmpfs: Bool) throws {
        self.quick = quick
        self.repo = repo
        self.peers = repo + "/Benchmarks/peers"
        self.watcherBinary = watcherBinary
        self.work = work
        self.fixtures = fixtures
        self.keep = keep
        try Files.mkdir(work)
        workFS = Machine.filesystem(of: work)
        if tmpfs, Machine.filesystem(of: "/dev/shm") == "tmpfs" {
            let t = "/dev/shm/watcher-bench-\(getpid())"
            try Files.mkdir(t)
            tmpfsWork = t
        } else {
            tmpfsWork = nil
        }
    }

    /// Compiles the C peers and finds the others, recording why any is missing.
    func preparePeers() {
        let binDir = work + "/bin"
        try? Files.mkdir(binDir)
        let cc = SpawnRequest(argv: ["cc"], outputPath: "/dev/null").resolvedExecutable()
        for name in ["inotify_reader", "bench_agent"] {
            guard let cc else { skipped.append((name, "no C compiler (cc) on PATH")); continue }
            let out = binDir + "/" + name
            let r = capture([cc, "-O2", "-o", out, peers + "/\(name).c"])
            if r.status == .exited(0) { bin[name] = out } else { skipped.append((name, "cc failed: \(r.output.prefix(200))")) }
        }
        func which(_ name: String) -> String? { SpawnRequest(argv: [name], outputPath: "/dev/null").resolvedExecutable() }
        var candidates: [String] = []
        if let env = SpawnRequest.currentEnvironment()["BENCH_PYTHON"] { candidates.append(env) }
        if let p = which("python3") { candidates.append(p) }
        candidates.append("/usr/bin/python3")
        for c in candidates where FileSystem.exists(c) || c.contains("/") == false {
            if python == nil, capture([c, "-c", "import json"]).status == .exited(0) { python = c }
            if watchdogPython == nil, capture([c, "-c", "import watchdog.observers"]).status == .exited(0) { watchdogPython = c }
        }
        if python == nil { skipped.append(("python peers", "no python3")) }
        if watchdogPython == nil { skipped.append(("watchdog", "no python3 with the watchdog module (Benchmarks/setup.sh installs it)")) }
        inotifywait = which("inotifywait")
        if inotifywait == nil { skipped.append(("inotifywait", "not installed (apt-get install inotify-tools)")) }
        watchman = which("watchman")
        if watchman == nil { skipped.append(("watchman", "not installed (apt-get install watchman)")) }
        if bin["bench_agent"] == nil {
            skipped.append(("agent-watcher scenarios 1-2, 4, 7", "they need the C bench agent (cc)"))
        }
    }

    /// A fresh folder for one run (on tmpfs when asked and available).
    func freshDir(_ name: String, tmpfs: Bool = false) -> String {
        let base = tmpfs ? (tmpfsWork ?? work) : work
        let dir = base + "/" + name
        Files.remove(dir)
        try? Files.mkdir(dir)
        return dir
    }

    func cleanup(_ dir: String) { if !keep { Files.remove(dir) } }

    func log(_ s: String) {
        Out.err(s)
    }
}

enum Out {
    static func err(_ s: String) { Console.error(s) }

    static func line(_ s: String) { Console.out(s) }
}

/// Facts about the machine, for the report's header.
enum Machine {
    static func filesystem(of path: String) -> String {
        guard let mounts = Files.text("/proc/mounts") else { return "?" }
        let real = (try? FileSystem.realPath(path)) ?? path
        var best = ("", "?")
        for line in mounts.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 3 else { continue }
            let point = String(f[1])
            if (real == point || real.hasPrefix(point == "/" ? "/" : point + "/")) && point.count >= best.0.count {
                best = (point, String(f[2]))
            }
        }
        return best.1
    }

    static func cpuModel() -> String {
        for line in (Files.text("/proc/cpuinfo") ?? "").split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingSpaces } ?? "?"
        }
        return "?"
    }

    static func memory() -> String {
        for line in (Files.text("/proc/meminfo") ?? "").split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
            return fmt(kb / 1024 / 1024, 1) + " GiB"
        }
        return "?"
    }

    static func kernel() -> String {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let machine = withUnsafeBytes(of: &u.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return "Linux \(release) \(machine)"
    }

    static func cores() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    static func loadAverage() -> String {
        (Files.text("/proc/loadavg") ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func commit(repo: String) -> String {
        let head = capture(["git", "-C", repo, "rev-parse", "--short=12", "HEAD"], timeout: 10)
        guard head.status == .exited(0) else { return "unknown (not a git checkout)" }
        let dirty = capture(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"], timeout: 10)
        let hash = head.output.trimmingSpaces
        return dirty.output.trimmingSpaces.isEmpty ? hash : hash + " (with uncommitted changes)"
    }

    /// fdatasync of a 200-byte append and fsync of its folder, on `dir`: what a durable step costs here.
    static func syncProbe(_ dir: String, count: Int = 200) -> (fdatasync: Stats?, dirFsync: Stats?) {
        let path = dir + "/sync-probe"
        guard let fd = try? FileDescriptor.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o644),
              let dfd = try? FileDescriptor.open(dir, O_RDONLY) else { return (nil, nil) }
        defer { try? fd.close(); try? dfd.close(); try? FileSystem.unlink(path) }
        let line = [UInt8](repeating: 0x61, count: 199) + [0x0A]
        var a: [Double] = [], b: [Double] = []
        for _ in 0..<count {
            try? fd.writeAll(line)
            let t0 = Now.mono()
            try? fd.fdatasync()
            let t1 = Now.mono()
            try? dfd.fsync()
            let t2 = Now.mono()
            a.append((t1 - t0) * 1e6)
            b.append((t2 - t1) * 1e6)
        }
        return (Stats(a), Stats(b))
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
