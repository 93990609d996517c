import AgentWatcher
import DemoCourse
import Foundation

enum DemoCommand {
    static func main(_ args: inout Arguments) throws -> Int32 {
        let root = args.option("root")
        let seed = try args.int("seed") ?? 42
        let quiet = args.flag("quiet", "q")
        try args.finish()
        let cwd = FileManager.default.currentDirectoryPath
        return try Demo(root: root.map { $0.hasPrefix("/") ? $0 : cwd + "/" + $0 }, seed: UInt64(seed), quiet: quiet).run()
    }
}
