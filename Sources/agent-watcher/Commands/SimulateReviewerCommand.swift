import AgentWatcher
import DemoCourse

/// `simulate-reviewer --answers FILE`: the demo's `reviewer` responder.
enum SimulateReviewerCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        try SimulatedReviewer(answersPath: args.option("answers") ?? "").run()
    }
}
