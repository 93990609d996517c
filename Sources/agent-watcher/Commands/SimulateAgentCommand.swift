import AgentWatcher
import DemoCourse

enum SimulateAgentCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let agent = SimulatedAgent(
            answersPath: args.option("answers") ?? "", itemsPath: args.option("items") ?? "",
            phase: args.option("phase") ?? "", batch: args.int("batch") ?? 1,
            start: args.int("start") ?? 1, end: args.int("end") ?? 1,
            attempt: args.int("attempt") ?? 1, output: args.option("output") ?? "",
            seed: UInt64(args.int("seed") ?? 0))
        return try agent.run()
    }
}
