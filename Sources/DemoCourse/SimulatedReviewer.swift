import AgentWatcher
import WatcherCore
import WatcherSystem

/// The demo's `reviewer` responder (`agent-watcher simulate-reviewer`, the same binary): it
/// reads its turn's prompt on standard input, finds the seed the question is about, and prints
/// on standard output what the answer key says of that seed's decomposition: its LEGOs.
public struct SimulatedReviewer {
    public var answersPath: String

    public init(answersPath: String) { self.answersPath = answersPath }

    public func run() throws -> Int32 {
        let prompt = String(decoding: try FileDescriptor(owning: 0).readAll(), as: UTF8.self)
        Console.out(try answer(prompt: prompt))
        return 0
    }

    /// The answer to the message in `prompt` (its body names `"seed"`).
    public func answer(prompt: String) throws -> String {
        guard let seed = Self.seed(in: prompt) else { return "I found no \"seed\" in your message; ask about one seed id." }
        let answers = try FileSystem.readFile(answersPath)
        for item in try JSONScanner.members(ofTopLevelKey: "seeds", in: answers).items {
            let value = try JSONParser.parse(Array(answers[item.valueRange]))
            guard value["seed_id"]?.stringValue == seed else { continue }
            let legos = (value["legos"]?.arrayValue ?? []).compactMap { l -> String? in
                guard let id = l["id"]?.stringValue, let target = l["lego"]?["target"]?.stringValue else { return nil }
                return "\(id) \"\(target)\""
            }
            return "\(seed) decomposes into \(legos.count) LEGOs: \(legos.joined(separator: ", ")). "
                + "Every target word must be covered by one of them."
        }
        return "\(seed) is not in the answer key."
    }

    /// The first `"seed":"<id>"` of the message body shown in the prompt.
    static func seed(in prompt: String) -> String? {
        guard let r = prompt.range(of: #""seed":""#) else { return nil }
        let rest = prompt[r.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        let id = String(rest[..<end])
        return PlainName.check(id) == nil ? id : nil
    }
}
