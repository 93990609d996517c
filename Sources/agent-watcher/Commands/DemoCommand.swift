import AgentWatcher
import DemoCourse
import Foundation

enum DemoCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let seed = args.int("seed") ?? 42
        return try Demo(root: args.option("root").map(Arguments.absolute), seed: UInt64(seed), quiet: args.flag("quiet")).run()
    }
}
