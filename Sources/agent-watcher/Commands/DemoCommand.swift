import AgentWatcher
import DemoCourse
import Foundation

enum DemoCommand {
    static func main(_ args: inout Arguments) throws -> Int32 {
        let root = args.option("root")
        let seed = try args.int("seed") ?? 42
        let quiet = args.flag("quiet", "q")
        let dashboard = DashboardChild.listenOption(&args)
        try args.finish()
        let cwd = FileManager.default.currentDirectoryPath
        let demo = Demo(root: root.map { $0.hasPrefix("/") ? $0 : cwd + "/" + $0 }, seed: UInt64(seed), quiet: quiet)
        guard let dashboard else { return try demo.run() }
        // `demo --dashboard`: the dashboard beside the demo's daemon, serving on after it ends.
        let beside = try DashboardChild.start(root: demo.root, listen: dashboard)
        Console.out("dashboard: \(beside.url)")
        let code: Int32
        do { code = try demo.run() } catch {
            try? beside.stop() // the demo's own error is the one to report
            throw error
        }
        try beside.serveUntilSignalled()
        return code
    }
}
