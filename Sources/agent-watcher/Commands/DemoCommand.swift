import AgentWatcher
import DemoCourse
import Foundation

enum DemoCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let seed = args.int("seed") ?? 42
        let demo = Demo(root: args.option("root").map(Arguments.absolute), seed: UInt64(seed), quiet: args.flag("quiet"))
        guard let dashboard = DashboardChild.listen(args) else { return try demo.run() }
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
