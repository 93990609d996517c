import AgentWatcher
import DemoCourse

enum SimulateAgentCommand {
    static func main(_ args: inout Arguments) throws -> Int32 {
        let agent = SimulatedAgent(
            answersPath: try args.required("answers"), itemsPath: try args.required("items"),
            phase: try args.required("phase"), batch: try args.int("batch") ?? 1,
            start: try args.int("start") ?? 1, end: try args.int("end") ?? 1,
            attempt: try args.int("attempt") ?? 1, output: try args.required("output"),
            seed: UInt64(try args.int("seed") ?? 0))
        try args.finish()
        return try agent.run()
    }
}
