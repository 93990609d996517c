import AgentWatcher
import Dashboard
import Foundation
import WatcherSystem

/// `dashboard [--root DIR] [--listen 127.0.0.1:8765] [--allow-remote]`: serves the web
/// dashboard of a root, whether its daemon runs or not, and prints its URL with the token.
enum DashboardCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        var options = DashboardOptions(root: args.root)
        do {
            if let listen = args.option("listen") { try options.setListen(listen) }
        } catch let e as DashboardOptions.Invalid {
            throw args.usageError(e.description)
        }
        options.allowRemote = args.flag("allow-remote")
        if let ms = args.int("header-timeout-ms") {
            guard ms >= 1 else { throw args.usageError("--header-timeout-ms must be ≥ 1") }
            options.headerTimeoutMilliseconds = ms
        }
        if let n = args.int("max-connections") {
            guard n >= 1 else { throw args.usageError("--max-connections must be ≥ 1") }
            options.maxConnections = n
        }
        if let n = args.int("max-streams") {
            guard n >= 1 else { throw args.usageError("--max-streams must be ≥ 1") }
            options.maxStreams = n
        }
        do { try options.check() } catch let e as DashboardOptions.Invalid { throw args.usageError(e.description) }
        // Started by `run --dashboard` or `demo --dashboard`: it ends with that command, even one
        // killed with SIGKILL, instead of serving on for a daemon that is gone.
        if let parent = ProcessInfo.processInfo.environment[DashboardChild.parentVariable].flatMap(pid_t.init) {
            guard try ProcessControl.dieWithParent(parent) else { return 0 }
        }
        let server = try DashboardServer(options: options)
        Console.out("dashboard: \(server.url)")
        try server.run()
    }
}
