import Foundation
import Testing
@testable import DemoCourse
import WatcherCore

private let demoDir = String(#filePath).replacingOccurrences(of: "Tests/DemoCourseTests/RepairsTests.swift",
                                                             with: "Sources/DemoCourse/Resources/demo")

private func answerItem(_ phase: String, key: String, id: String) throws -> JSONValue {
    let top = try JSONParser.parse([UInt8](try #require(FileManager.default.contents(atPath: demoDir + "/answers/phase-\(phase).json"))))
    switch top[key] {
    case .array(let items)?: return try #require(items.first { $0["seed_id"]?.stringValue == id })
    case .object(let members)?: return try #require(members.first { $0.key == id }?.value)
    default: throw CancellationError()
    }
}

@Suite struct RepairsTests {
    /// A retry section as PromptRenderer writes it, read back into the errors it names.
    @Test func errorsPreviousFileAndInputAreReadFromARetryPrompt() {
        let prompt = """
            ## This batch

            Input items:

            ```json
            [
              {"seed_id": "S0003", "legos": [{"id": "S0003L01", "lego": {"known": "how", "target": "cómo"}}]}
            ]
            ```

            ## Fix these errors from the previous attempt

            Attempt 1's file was moved to:

                /r/rejected/3_batch_1.attempt-1.json

            Failed items: S0003.

            - S0003 [uncovered_word]: target word "frecuentamente" is not covered by any LEGO of this seed or an earlier seed Suggestion: Add a LEGO whose target contains it, or correct the spelling in seed_pair.target.
            - S0034L02 [empty_basket]: the basket for S0034L02 has an empty "practice_phrases" Suggestion: Give S0034L02 a "practice_phrases" array.

            Start from the previous attempt's file at /r/rejected/3_batch_1.attempt-1.json: keep the items that passed, fix the failed ones.
            """
        let errors = Repairs.errors(inPrompt: prompt)
        #expect(errors == [
            .init(item: "S0003", type: "uncovered_word",
                  message: #"target word "frecuentamente" is not covered by any LEGO of this seed or an earlier seed"#),
            .init(item: "S0034L02", type: "empty_basket", message: #"the basket for S0034L02 has an empty "practice_phrases""#),
        ])
        #expect(Repairs.quotedWords(errors[0].message) == ["frecuentamente"])
        #expect(Repairs.previousFile(inPrompt: prompt) == "/r/rejected/3_batch_1.attempt-1.json")
        #expect(Repairs.inputItems(inPrompt: prompt).first?["seed_id"]?.stringValue == "S0003")
        // A first attempt's prompt has no errors.
        #expect(Repairs.errors(inPrompt: "## This batch\n\n- S0003 [uncovered_word]: x").isEmpty)
    }

    @Test func s0003GetsALegoCoveringItsMisspeltWordThatTheRuleAccepts() throws {
        let seed = try answerItem("3", key: "seeds", id: "S0003")
        let error = Repairs.NamedError(item: "S0003", type: ValidationErrorType.uncoveredWord,
                                       message: #"target word "frecuentamente" is not covered"#)
        // Before: the rule names the word; after the repair it does not.
        let before = CourseRules.legoPairs(items: [BatchItem(id: "S0003", raw: [], value: seed)], knownWordsBefore: [])
        #expect(before.map(\.type) == [ValidationErrorType.uncoveredWord])
        let fixed = try #require(Repairs.repair(seed, id: "S0003", errors: [error], inputSeeds: []))
        #expect(CourseRules.legoPairs(items: [BatchItem(id: "S0003", raw: [], value: fixed)], knownWordsBefore: []).isEmpty)
        let added = try #require(fixed["legos"]?.arrayValue?.last)
        #expect(added == ["id": "S0003L04", "type": "A", "new": true,
                          "lego": ["known": "often/frequently", "target": "frecuentamente"]])
        #expect(fixed["legos"]?.arrayValue?.count == (seed["legos"]?.arrayValue?.count ?? 0) + 1)
        // Errors of no repairable type leave the item alone.
        #expect(Repairs.repair(seed, id: "S0003", errors: [.init(item: "S0003", type: "missing_field", message: "x")], inputSeeds: []) == nil)
    }

    @Test func anEmptyOrMissingBasketGetsThePhraseOfItsOwnLego() throws {
        let basket = try answerItem("5", key: "baskets", id: "S0034L02")
        #expect(basket["practice_phrases"]?.arrayValue?.isEmpty == true)
        let empty = Repairs.NamedError(item: "S0034L02", type: ValidationErrorType.emptyBasket, message: "")
        let fixed = try #require(Repairs.repair(basket, id: "S0034L02", errors: [empty], inputSeeds: []))
        #expect(fixed["practice_phrases"] == [["known": "to be quiet", "target": "estar silencioso"]])
        #expect(fixed["phrase_count"] == 1)
        #expect(fixed["lego"] == basket["lego"])
        let seeds: [JSONValue] = [["seed_id": "S0003", "legos": [["id": "S0003L04", "lego": ["known": "often", "target": "frecuentamente"]]]]]
        let rule = CourseRules.legoBaskets(items: [BatchItem(id: "S0034L02", raw: [], value: fixed)],
                                           inputSeeds: [["legos": [["id": "S0034L02", "new": true]]]])
        #expect(rule.isEmpty)
        // A missing basket is written from the LEGO in the input seeds.
        let missing = Repairs.NamedError(item: "S0003L04", type: ValidationErrorType.missingBasket, message: "")
        let written = try #require(Repairs.repair(nil, id: "S0003L04", errors: [missing], inputSeeds: seeds))
        #expect(written["practice_phrases"] == [["known": "often", "target": "frecuentamente"]])
    }

    @Test func theSeedDoomsOnePhase3BatchOnEveryAttemptAndNoOther() {
        for seed: UInt64 in [0, 1, 7, 42] {
            let doomed = SimulatedAgent.doomedBatch(seed: seed)
            #expect(doomed.phase == "3" && (2...5).contains(doomed.batch))
            for attempt in 1...3 {
                let a = SimulatedAgent(answersPath: "", itemsPath: "", phase: "3", batch: doomed.batch, start: 1, end: 20,
                                       attempt: attempt, output: "", seed: seed)
                #expect(a.plan().flaw == .brokenItem)
            }
        }
        #expect(SimulatedAgent.doomedBatch(seed: 42).batch == 4)
        #expect(SimulatedAgent.doomedBatch(seed: 7).batch == 5)
    }
}
