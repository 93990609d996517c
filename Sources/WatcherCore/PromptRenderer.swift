/// Renders an agent's prompt: the phase's instructions, this batch's input items, where and in
/// which shape to write, and on a retry the previous attempt's file, errors and passed items.
public struct PromptRenderer: Sendable {
    /// The shape of the batch file the phase expects (its merge strategy's container).
    public struct OutputShape: Equatable, Sendable {
        public var strategy: MergeStrategy
        public var key: String?
        public var idField: String?

        public init(strategy: MergeStrategy, key: String? = nil, idField: String? = nil) {
            self.strategy = strategy
            self.key = key
            self.idField = idField
        }
    }

    public var instructions: String
    public var outputPath: String
    public var stagingHint: String
    public var output: OutputShape

    public init(instructions: String, outputPath: String, stagingHint: String, output: OutputShape) {
        self.instructions = instructions
        self.outputPath = outputPath
        self.stagingHint = stagingHint
        self.output = output
    }

    public func render(batch: BatchID, attempt: Int, itemIDs: [String], inputItems: [UInt8],
                       previous: PreviousAttempt?) -> String {
        var s = instructions.trimmingTrailingNewlines() + "\n\n"
        s += "## This batch\n\n"
        s += "Run \(batch.run), phase \(batch.phase), batch \(batch.index), attempt \(attempt). "
        s += "Items \(itemIDs.first ?? "-") to \(itemIDs.last ?? "-") (\(itemIDs.count) items).\n\n"
        s += "Input items:\n\n```json\n" + String(decoding: inputItems, as: UTF8.self) + "\n```\n\n"
        s += "## Output\n\n"
        s += "Write the whole batch to:\n\n    \(outputPath)\n\nas \(outputInstruction).\n\n"
        s += "\(stagingHint)\n"
        if let previous, !previous.report.errors.isEmpty { s += retrySection(previous) }
        return s
    }

    /// What to write, in the words of the phase's strategy, with its container key and id field.
    public var outputInstruction: String {
        let idField = output.idField ?? "id"
        switch output.strategy {
        case .object:
            let inner = #"{"<id>": ...}"#
            return "one JSON file: " + (output.key.map { "{\(Self.quoted($0)): \(inner)}" } ?? inner)
                + ", each item under its id"
        case .array:
            let inner = "[ {...,\(Self.quoted(idField)): ...}, ... ]"
            return "one JSON file: " + (output.key.map { "{\(Self.quoted($0)): \(inner)}" } ?? inner)
                + ", each item with its id in \(Self.quoted(idField))"
        case .jsonl:
            return "one JSON object per line, each with \(Self.quoted(idField)), no top-level wrapper"
        }
    }

    func retrySection(_ previous: PreviousAttempt) -> String {
        let report = previous.report
        var s = "\n## Fix these errors from the previous attempt\n\n"
        if let file = previous.file {
            s += "Attempt \(previous.attempt)'s file was moved to:\n\n    \(file)\n\n"
        } else {
            s += "Attempt \(previous.attempt) left no file: write the whole batch.\n\n"
        }
        var lists: [String] = []
        if !report.failedItems.isEmpty {
            lists.append("Failed items: \(report.failedItems.joined(separator: ", ")).")
        }
        if previous.file != nil {
            lists.append(previous.passedItems.isEmpty ? "No item passed."
                : "Passed items: \(previous.passedItems.joined(separator: ", ")).")
        }
        if !lists.isEmpty { s += lists.joined(separator: "\n") + "\n\n" }
        s += report.feedback(forItems: report.failedItems) + "\n"
        if let file = previous.file {
            s += "\nStart from the previous attempt's file at \(file): keep the items that passed, fix the failed ones.\n"
        }
        return s
    }

    /// The input items as JSON text: an object `{"<id>": <item>, ...}` when the items are keyed
    /// by id (an `object` container), else an array of the items (which hold their ids).
    /// The items' bytes are spliced in as they are, in the order given.
    public static func inputJSON(_ items: [(id: String, raw: [UInt8])], keyed: Bool) -> [UInt8] {
        var out: [UInt8] = Array((keyed ? "{\n" : "[\n").utf8)
        for (i, item) in items.enumerated() {
            out += Array("  ".utf8)
            if keyed { out += JSONText.quoted(item.id) + Array(": ".utf8) }
            out += item.raw
            out += Array((i + 1 < items.count ? ",\n" : "\n").utf8)
        }
        out += Array((keyed ? "}" : "]").utf8)
        return out
    }

    static func quoted(_ s: String) -> String { String(decoding: JSONText.quoted(s), as: UTF8.self) }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = self
        while s.last == "\n" || s.last == "\r" || s.last == " " { s.removeLast() }
        return s
    }
}
