import AgentWatcher
import Foundation

enum RunCommand {
    static func main(_ args: inout Arguments) throws -> Int32 {
        var pipelines: [String] = []
        if let p = args.option("pipeline") { pipelines.append(p) }
        pipelines += args.positionals
        args.positionals = []
        let root = args.option("root") ?? FileManager.default.currentDirectoryPath
        try args.finish()
        guard !pipelines.isEmpty else { throw UsageError("run needs --pipeline FILE") }
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = pipelines.map { $0.hasPrefix("/") ? $0 : cwd + "/" + $0 }
        let daemon = try Daemon(options: Daemon.Options(root: root.hasPrefix("/") ? root : cwd + "/" + root, pipelines: absolute))
        Console.error("agent-watcher: watching \(daemon.layout.mailbox); events in \(daemon.layout.eventLog)")
        _ = try daemon.run()
        return 0
    }
}
