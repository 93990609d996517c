/// Renders an agent's prompt: the phase's instructions, this batch's input items, where to
/// write, and on a retry the previous attempt's errors for the failed items only.
public struct PromptRenderer: Sendable {
    public var instructions: String
    public var outputPath: String
    public var stagingHint: String

    public init(instructions: String, outputPath: String, stagingHint: String) {
        self.instructions = instructions
        self.outputPath = outputPath
        self.stagingHint = stagingHint
    }

    public func render(batch: BatchID, attempt: Int, itemIDs: [String], inputItems: [UInt8],
                       feedback: ValidationReport?) -> String {
        var s = instructions.trimmingTrailingNewlines() + "\n\n"
        s += "## This batch\n\n"
        s += "Run \(batch.run), phase \(batch.phase), batch \(batch.index), attempt \(attempt). "
        s += "Items \(itemIDs.first ?? "-") to \(itemIDs.last ?? "-") (\(itemIDs.count) items).\n\n"
        s += "Input items:\n\n```json\n" + String(decoding: inputItems, as: UTF8.self) + "\n```\n\n"
        s += "## Output\n\n"
        s += "Write the whole batch as one JSON file to:\n\n    \(outputPath)\n\n"
        s += "\(stagingHint)\n"
        if let feedback, !feedback.errors.isEmpty {
            s += "\n## Fix these errors from the previous attempt\n\n"
            if !feedback.failedItems.isEmpty {
                s += "Only these items failed: \(feedback.failedItems.joined(separator: ", ")). "
                s += "Keep the other items as they were.\n\n"
            }
            s += feedback.feedback(forItems: feedback.failedItems) + "\n"
        }
        return s
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = self
        while s.last == "\n" || s.last == "\r" || s.last == " " { s.removeLast() }
        return s
    }
}
