import AgentWatcher
import Dashboard
import Foundation

/// `dashboard [--root DIR] [--listen 127.0.0.1:8765] [--allow-remote]`: serves the web
/// dashboard of a root, whether its daemon runs or not, and prints its URL with the token.
enum DashboardCommand {
    static func main(_ args: inout Arguments) throws -> Int32 {
        var options = DashboardOptions(root: args.option("root") ?? FileManager.default.currentDirectoryPath)
        do {
            if let listen = args.option("listen") { try options.setListen(listen) }
        } catch let e as DashboardOptions.Invalid {
            throw UsageError(e.description)
        }
        options.allowRemote = args.flag("allow-remote")
        if let ms = try args.int("header-timeout-ms") {
            guard ms >= 1 else { throw UsageError("--header-timeout-ms must be ≥ 1") }
            options.headerTimeoutMilliseconds = ms
        }
        if let n = try args.int("max-connections") {
            guard n >= 1 else { throw UsageError("--max-connections must be ≥ 1") }
            options.maxConnections = n
        }
        try args.finish()
        do { try options.check() } catch let e as DashboardOptions.Invalid { throw UsageError(e.description) }
        let server = try DashboardServer(options: options)
        Console.out("dashboard: \(server.url)")
        try server.run()
    }
}
