import AgentWatcher
import Foundation
import Glibc
import WatcherSystem

/// `run --dashboard[=ADDR]` and `demo --dashboard[=ADDR]`: `agent-watcher dashboard` as a child
/// process beside the daemon (a reader; it can die without the daemon noticing), its output in
/// `logs/dashboard.log`, stopped when the command ends.
struct DashboardChild {
    static let defaultListen = "127.0.0.1:8765"
    let pid: pid_t
    let url: String

    /// `--dashboard`, `--dashboard ADDR` or `--dashboard=ADDR`. Read it before the positionals:
    /// in `--dashboard course.json` the value is a pipeline, not an address.
    /// `--dashboard` (the default address) or `--dashboard=ADDR`; nil without it.
    static func listen(_ args: Arguments) -> String? {
        guard let v = args.option("dashboard") else { return nil }
        return v.isEmpty ? defaultListen : v
    }

    /// Starts it and waits (inotify on `logs/`) until it prints its URL.
    static func start(root: String, listen: String) throws -> DashboardChild {
        let layout = Layout(root: root)
        try FileSystem.createDirectory(layout.logs)
        let out = layout.logs + "/dashboard.log"
        let watch = try Inotify()
        _ = try watch.addWatch(layout.logs, mask: [.modify, .closeWrite, .create])
        // The log is appended to: only what this child writes counts (an earlier dashboard's URL,
        // with its old token, is not this one's).
        let start = FileSystem.exists(out) ? Int(try FileSystem.openRegular(out).stat().size) : 0
        var env = SpawnRequest.currentEnvironment()
        env[DashboardChild.parentVariable] = String(getpid()) // it ends with this process, even a SIGKILLed one
        let pid = try Spawner.spawn(SpawnRequest(argv: [try FileSystem.executablePath(), "dashboard", "--root", root, "--listen", listen],
                                                 environment: env, workingDirectory: root, stdinPath: nil, outputPath: out))
        let exited = try ProcessControl.openPIDFD(pid)
        let deadline = Clock.monotonicNanoseconds() + 30_000_000_000
        while true {
            let text = FileSystem.exists(out) ? String(decoding: try FileSystem.readRegularFile(out).dropFirst(start), as: UTF8.self) : ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("dashboard: ") }) {
                return DashboardChild(pid: pid, url: String(line.dropFirst("dashboard: ".count)))
            }
            let now = Clock.monotonicNanoseconds()
            let ready = now < deadline ? try Poller.wait([watch.fileDescriptor, exited.rawValue], timeoutMilliseconds: Poller.timeout(untilMonotonic: deadline)) : []
            if ready.contains(exited.rawValue) || now >= deadline {
                if !ready.contains(exited.rawValue) { _ = try ProcessControl.signal(pid, SIGKILL) }
                let status = try ProcessControl.waitBlocking(pid)
                throw DashboardFailed(description: "the dashboard did not start (\(status)): \(text.trimmingCharacters(in: .newlines))")
            }
            if ready.contains(watch.fileDescriptor) { _ = try watch.readEvents() }
        }
    }

    struct DashboardFailed: Error, CustomStringConvertible { var description: String }

    /// Set in the child's environment to the pid of the command that started it: the dashboard
    /// asks for SIGTERM when that process dies (`ProcessControl.dieWithParent`).
    static let parentVariable = "AGENT_WATCHER_DASHBOARD_PARENT"

    /// SIGTERM, then reaped.
    func stop() throws {
        _ = try ProcessControl.signal(pid, SIGTERM)
        _ = try ProcessControl.waitBlocking(pid)
    }

    /// Keeps serving until SIGINT or SIGTERM (after a demo has ended), then stops the child.
    func serveUntilSignalled() throws {
        try Signals.block([SIGINT, SIGTERM])
        let signals = try SignalFD(signals: [SIGINT, SIGTERM])
        let exited = try ProcessControl.openPIDFD(pid)
        Console.error("agent-watcher: the dashboard keeps serving at \(url); Ctrl-C stops it")
        while try Poller.wait([signals.fileDescriptor, exited.rawValue], timeoutMilliseconds: -1).isEmpty {}
        try stop()
    }
}
