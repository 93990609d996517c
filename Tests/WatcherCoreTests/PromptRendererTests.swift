import Testing
import WatcherCore

private func renderer(_ output: PromptRenderer.OutputShape = .init(strategy: .object, key: "translations")) -> PromptRenderer {
    PromptRenderer(instructions: "# Translate\n\nDo it well.\n\n\n", outputPath: "/mb/r/outbox/1_batch_2.json",
                   stagingHint: "Write under tmp/ first.", output: output)
}

private let report = ValidationReport(valid: false, errors: [
    ValidationError(type: "missing_item", item: "S0003", message: "S0003 is missing", suggestion: "add it"),
    ValidationError(type: "invalid_item", item: "S0004", message: "S0004 is odd"),
    ValidationError(type: "invalid_json", item: nil, message: "line 2\ncolumn 3: bad"),
], failedItems: ["S0003"], stats: [:])

private let rejectedFile = "/mb/r/rejected/1_batch_2.attempt-1.json"

@Suite struct PromptRendererTests {
    @Test func firstAttemptPromptHasInstructionsItemsAndOutputButNoFeedback() {
        let p = renderer().render(batch: sm("1", 2), attempt: 1, itemIDs: ["S0003", "S0004"],
                                  inputItems: Array(#"[{"id":"S0003"},{"id":"S0004"}]"#.utf8), previous: nil)
        #expect(p.hasPrefix("# Translate\n\nDo it well.\n\n## This batch\n\n"))
        #expect(p.contains("Run r, phase 1, batch 2, attempt 1. Items S0003 to S0004 (2 items)."))
        #expect(p.contains("```json\n[{\"id\":\"S0003\"},{\"id\":\"S0004\"}]\n```"))
        #expect(p.contains("    /mb/r/outbox/1_batch_2.json\n"))
        #expect(p.contains("Write under tmp/ first."))
        #expect(!p.contains("Fix these errors"))
        // A report with no errors adds nothing either.
        let clean = renderer().render(batch: sm("1", 2), attempt: 2, itemIDs: ["S0003"], inputItems: [],
                                      previous: PreviousAttempt(attempt: 1, file: rejectedFile, report: .passed))
        #expect(!clean.contains("Fix these errors"))
    }

    @Test func objectKeyedInputsKeepTheirKeysInBatchOrderEscaped() {
        let items: [(id: String, raw: [UInt8])] = [("S0002", Array(#"{"t": "dos"}"#.utf8)), ("S\"1\\", Array("[1]".utf8))]
        #expect(String(decoding: PromptRenderer.inputJSON(items, keyed: true), as: UTF8.self)
            == "{\n  \"S0002\": {\"t\": \"dos\"},\n  \"S\\\"1\\\\\": [1]\n}")
        #expect(String(decoding: PromptRenderer.inputJSON(items, keyed: false), as: UTF8.self)
            == "[\n  {\"t\": \"dos\"},\n  [1]\n]")
        #expect(String(decoding: PromptRenderer.inputJSON([], keyed: true), as: UTF8.self) == "{\n}")
    }

    @Test func retryPromptNamesThePreviousFileTheFailedAndThePassedItems() {
        let previous = PreviousAttempt(attempt: 1, file: rejectedFile, report: report, passedItems: ["S0004", "S0005"])
        let p = renderer().render(batch: sm("1", 2), attempt: 2, itemIDs: ["S0003", "S0004", "S0005"], inputItems: [],
                                  previous: previous)
        #expect(p.contains("## Fix these errors from the previous attempt"))
        #expect(p.contains("Attempt 1's file was moved to:\n\n    \(rejectedFile)\n"))
        #expect(p.contains("Failed items: S0003.\n"))
        #expect(p.contains("Passed items: S0004, S0005.\n"))
        #expect(p.contains("- S0003 [missing_item]: S0003 is missing Suggestion: add it"))
        #expect(p.contains("- [invalid_json]: line 2 column 3: bad"), "batch-wide errors are kept, on one line")
        #expect(!p.contains("S0004 is odd"), "errors of items that did not fail are left out")
        #expect(p.contains("Start from the previous attempt's file at \(rejectedFile): keep the items that passed, fix the failed ones."))
        #expect(!p.contains("Keep the other items as they were"))
    }

    @Test func retryPromptWithoutAFileSaysSoAndDoesNotAskToKeepItems() {
        let none = ValidationReport.from(errors: [ValidationError(type: "no_output", message: "nothing written")])
        let p = renderer().render(batch: sm("1", 2), attempt: 3, itemIDs: ["S0003"], inputItems: [],
                                  previous: PreviousAttempt(attempt: 2, file: nil, report: none))
        #expect(p.contains("Attempt 2 left no file: write the whole batch."))
        #expect(p.contains("- [no_output]: nothing written"))
        #expect(!p.contains("Failed items"))
        #expect(!p.contains("Passed items"))
        #expect(!p.contains("Start from"))
        #expect(!p.contains("keep"))
    }

    @Test func aRetryWhoseFileHadNoPassingItemSaysSo() {
        let p = renderer().render(batch: sm("1", 2), attempt: 2, itemIDs: ["S0003"], inputItems: [],
                                  previous: PreviousAttempt(attempt: 1, file: rejectedFile, report: report))
        #expect(p.contains("No item passed.\n"))
    }

    @Test(arguments: [
        (PromptRenderer.OutputShape(strategy: .object, key: "translations"),
         #"one JSON file: {"translations": {"<id>": ...}}, each item under its id"#),
        (PromptRenderer.OutputShape(strategy: .object), #"one JSON file: {"<id>": ...}, each item under its id"#),
        (PromptRenderer.OutputShape(strategy: .array, key: "seeds", idField: "seed_id"),
         #"one JSON file: {"seeds": [ {...,"seed_id": ...}, ... ]}, each item with its id in "seed_id""#),
        (PromptRenderer.OutputShape(strategy: .array, idField: "id"),
         #"one JSON file: [ {...,"id": ...}, ... ], each item with its id in "id""#),
        (PromptRenderer.OutputShape(strategy: .jsonl, idField: "seed_id"),
         #"one JSON object per line, each with "seed_id", no top-level wrapper"#),
    ])
    func theOutputInstructionMatchesTheStrategy(shape: PromptRenderer.OutputShape, expected: String) {
        let r = renderer(shape)
        #expect(r.outputInstruction == expected)
        #expect(r.render(batch: sm("1", 2), attempt: 1, itemIDs: [], inputItems: [], previous: nil)
            .contains("Write the whole batch to:\n\n    /mb/r/outbox/1_batch_2.json\n\nas \(expected).\n"))
    }
}
