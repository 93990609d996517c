import AgentWatcher
import Foundation
import Glibc
import WatcherCore
import WatcherSystem

/// `run --pipeline FILE [--root DIR] [--daemon]`: the daemon, in the foreground or detached.
enum RunCommand {
    static func main(_ args: inout Arguments) throws -> Int32 {
        var pipelines: [String] = []
        while let p = args.option("pipeline") { pipelines.append(p) }
        pipelines += args.positionals
        args.positionals = []
        let cwd = FileManager.default.currentDirectoryPath
        let rootArg = args.option("root") ?? cwd
        let detach = args.flag("daemon")
        try args.finish()
        guard !pipelines.isEmpty else { throw UsageError("run needs --pipeline FILE") }
        let absolute = pipelines.map { $0.hasPrefix("/") ? $0 : cwd + "/" + $0 }
        let root = rootArg.hasPrefix("/") ? rootArg : cwd + "/" + rootArg
        // The same checks as `check`: a spec with any problem starts nothing.
        let reports = SpecChecker.check(absolute, searchPath: ProcessInfo.processInfo.environment["PATH"], rules: RegisteredRules.registry)
        let problems = reports.flatMap(\.problems)
        if !problems.isEmpty {
            for line in problems { Console.error(line) }
            Console.error("agent-watcher: not started: \(problems.count) problem(s) in the pipeline spec(s)")
            return 1
        }
        if detach { return try startDetached(pipelines: absolute, root: root) }
        let daemon = try Daemon(options: Daemon.Options(root: root, pipelines: absolute, rules: RegisteredRules.registry))
        daemon.onWatching = { [layout = daemon.layout] in
            Console.error("agent-watcher: watching \(layout.mailbox); events in \(layout.eventLog)")
        }
        _ = try daemon.run()
        return 0
    }

    /// Starts the daemon in a session of its own with stdio to `logs/watcher.log`, returns once
    /// it has logged `watcher.ready` (recovery and the first scan done, watching), and prints its
    /// pid; a `watcher.failed` or an exit before that is printed and fails.
    static func startDetached(pipelines: [String], root: String) throws -> Int32 {
        let layout = Layout(root: root)
        if let pid = ControlClient(layout: layout).runningDaemon() {
            Console.error("agent-watcher: a daemon is already running on \(root) (pid \(pid)); 'agent-watcher stop --root \(root)' stops it")
            return 1
        }
        try FileSystem.createDirectory(layout.logs)
        let follower = try LogFollower(layout: layout)
        let logFile = layout.logs + "/watcher.log"
        var request = SpawnRequest(
            argv: [try FileSystem.executablePath(), "run"] + pipelines.flatMap { ["--pipeline", $0] } + ["--root", root],
            workingDirectory: root, stdinPath: nil, outputPath: logFile)
        request.newSession = true
        let pid = try Spawner.spawn(request)
        let exited = try ProcessControl.openPIDFD(pid)
        let deadline = Clock.monotonicNanoseconds() + 60_000_000_000
        while Clock.monotonicNanoseconds() < deadline {
            for (_, r) in try follower.readNew() where r?.event.int("pid") == Int(pid) {
                if r?.event.event == EventName.watcherFailed {
                    Console.error("agent-watcher: the daemon (pid \(pid)) failed to start: \(r?.event.reason ?? "?")")
                    _ = try? ProcessControl.waitBlocking(pid) // it exits right after; its status adds nothing
                    return 1
                }
                guard r?.event.event == EventName.watcherReady else { continue }
                Console.out("\(pid)")
                Console.error("agent-watcher: daemon started (pid \(pid)), watching \(layout.mailbox); output in \(logFile), events in \(layout.eventLog)")
                return 0
            }
            let ms = Int32((deadline - Clock.monotonicNanoseconds()) / 1_000_000) + 1
            let ready = try Poller.wait([follower.fileDescriptor, exited.rawValue], timeoutMilliseconds: ms)
            if ready.contains(exited.rawValue) {
                let status = try ProcessControl.waitBlocking(pid)
                Console.error("agent-watcher: the daemon exited (\(status)) before it was watching; its output (\(logFile)):")
                let text = FileSystem.exists(logFile) ? String(decoding: try FileSystem.readFile(logFile), as: UTF8.self) : ""
                for line in text.split(separator: "\n").suffix(15) { Console.error("  \(line)") }
                return 1
            }
            if ready.contains(follower.fileDescriptor) { try follower.clearNotifications() }
        }
        Console.error("agent-watcher: the daemon (pid \(pid)) did not report watcher.ready within 60 s; see \(logFile)")
        return 1
    }
}
