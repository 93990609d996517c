import AgentWatcher
import Foundation
import Glibc
import WatcherCore
import WatcherSystem

/// `run --pipeline FILE [--root DIR] [--daemon | --until-done] [--quiet] [--dashboard[=ADDR]]`: the
/// daemon, in the foreground (with the dashboard beside it if asked) or detached. `--until-done` exits once every run is complete: 0 when every batch
/// merged or was skipped, 2 when some failed, are blocked or were cancelled.
enum RunCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let absolute = (args.options("pipeline") + args.positionals).map(Arguments.absolute)
        guard !absolute.isEmpty else { throw args.usageError("missing --pipeline FILE") }
        let root = args.root
        guard FileSystem.exists(root) else {
            Console.error("agent-watcher: the root \(root) does not exist; create it (mkdir -p \(root)) or give another --root")
            return 1
        }
        let dashboard = DashboardChild.listen(args)
        let detach = args.flag("daemon")
        // The same checks as `check`: a spec with any problem starts nothing.
        let reports = SpecChecker.check(absolute, searchPath: ProcessInfo.processInfo.environment["PATH"], rules: RegisteredRules.registry)
        let problems = reports.flatMap(\.problems)
        if !problems.isEmpty {
            for line in problems { Console.error(line) }
            Console.error("agent-watcher: not started: \(problems.count) problem(s) in the pipeline spec(s)")
            return 1
        }
        if detach {
            if dashboard != nil { throw args.usageError("--dashboard goes with a foreground run; beside a detached daemon run 'agent-watcher dashboard --root \(root)'") }
            guard !args.flag("until-done") else { throw args.usageError("--until-done is for a foreground run, not with --daemon") }
            guard try scope(args) == nil else { throw args.usageError("--batches and --phases are for a foreground trial, not with --daemon") }
            return try startDetached(pipelines: absolute, root: root)
        }
        var options = Daemon.Options(root: root, pipelines: absolute, rules: RegisteredRules.registry)
        options.exitWhenComplete = args.flag("until-done")
        if let scope = try scope(args) {
            for r in reports {
                guard let c = r.context else { continue }
                let known = Set(c.spec.phases.map(\.id))
                if let unknown = scope.phases?.subtracting(known).sorted(), !unknown.isEmpty {
                    throw args.usageError("--phases: \(c.run) has no phase \(unknown.joined(separator: ", ")) (its phases: \(c.spec.phases.map(\.id).joined(separator: ", ")))")
                }
                if let range = scope.batches, range.lowerBound > c.plan.batchCount {
                    throw args.usageError("--batches \(range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)"): "
                        + "\(c.run) has \(c.plan.batchCount) batch\(c.plan.batchCount == 1 ? "" : "es") (1-\(c.plan.batchCount)), none of them in that range")
                }
                options.scope[c.run] = scope
            }
        }
        let beside = try dashboard.map { try DashboardChild.start(root: root, listen: $0) }
        defer { if let beside { Console.error("agent-watcher: stopping the dashboard"); try? beside.stop() } } // exiting anyway; a failed SIGTERM changes nothing
        if let beside { Console.out("dashboard: \(beside.url)") }
        let daemon = try Daemon(options: options)
        let quiet = args.flag("quiet")
        daemon.onWatching = { [layout = daemon.layout] in
            if !quiet { Console.error("agent-watcher: watching \(layout.mailbox); events in \(layout.eventLog)") }
        }
        let progress = ProgressPrinter(quiet: quiet) { [unowned daemon] in daemon.currentState }
        daemon.replayObserver = { progress.replayed($0) }
        daemon.observer = { progress.observe($0) }
        let outcome = try daemon.run()
        var fold = StatusFold() // the log streamed, not held
        _ = try EventLogReader.fold(daemon.layout.eventLog) { fold.add($0) }
        let report = fold.report(daemonRunning: false)
        if !args.flag("quiet") { Console.out(StatusText.render(report)) }
        guard outcome == .completed else { return 0 }
        // Judged within the scope: the batches outside it stay pending on purpose.
        let state = fold.state
        let judged = state.batches.values.filter { options.scope[$0.id.run]?.contains($0.id) ?? true }
        return judged.allSatisfy { $0.state.satisfiesDependants || ($0.state == .pending && options.scope[$0.id.run] != nil) } ? 0 : 2
    }

    /// `--batches 3-5` and `--phases 1,3`: the part of every run this daemon may start.
    static func scope(_ args: Arguments) throws -> RunScope? {
        var scope = RunScope()
        if let text = args.option("batches") {
            guard let range = RunScope.parseBatches(text) else { throw args.usageError("--batches expects K or FROM-TO (1-based), got '\(text)'") }
            scope.batches = range
        }
        if let text = args.option("phases") {
            let ids = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !ids.isEmpty else { throw args.usageError("--phases expects ID[,ID...]") }
            scope.phases = Set(ids)
        }
        return scope == RunScope() ? nil : scope
    }

    /// Starts the daemon in a session of its own with stdio to `logs/watcher.log`, returns once
    /// it has logged `watcher.ready` (recovery and the first scan done, watching), and prints its
    /// pid; a `watcher.failed` or an exit before that is printed and fails.
    static func startDetached(pipelines: [String], root: String) throws -> Int32 {
        let layout = Layout(root: root)
        if let pid = try ControlClient(layout: layout).runningDaemon() {
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
                let text = FileSystem.exists(logFile) ? String(decoding: try FileSystem.readRegularFile(logFile), as: UTF8.self) : ""
                for line in text.split(separator: "\n").suffix(15) { Console.error("  \(line)") }
                return 1
            }
            if ready.contains(follower.fileDescriptor) { try follower.clearNotifications() }
        }
        Console.error("agent-watcher: the daemon (pid \(pid)) did not report watcher.ready within 60 s; see \(logFile)")
        return 1
    }
}
