import Testing
import DemoCourse
import WatcherCore

private func item(_ id: String, _ json: String) -> BatchItem {
    let raw = Array(json.utf8)
    return BatchItem(id: id, raw: raw, value: try! JSONParser.parse(raw))
}

private func summary(_ errors: [ValidationError]) -> [String] {
    errors.map { "\($0.type) \($0.item ?? "-")" }
}

/// A phase-3 seed item with the given target and LEGO targets (all type A, new).
private func seed(_ id: String, _ target: String, _ legoTargets: [String], components: [String] = []) -> BatchItem {
    var legos: [JSONValue] = legoTargets.enumerated().map { index, text in
        ["id": .string("\(id)L0\(index + 1)"), "type": "A", "new": true, "lego": ["known": "k", "target": .string(text)]]
    }
    if !components.isEmpty {
        legos.append([
            "id": .string("\(id)L09"), "type": "M", "new": true, "lego": ["known": "k", "target": "molecule"],
            "components": .array(components.map { ["known": "k", "target": .string($0)] }),
        ])
    }
    let value: JSONValue = ["seed_id": .string(id), "seed_pair": ["known": "k", "target": .string(target)], "legos": .array(legos)]
    return BatchItem(id: id, value: value)
}

@Suite("CourseRules")
struct CourseRulesTests {
    @Test(arguments: [
        ("¿Qué piensan todos ustedes?", ["qué", "piensan", "todos", "ustedes"]),
        ("Me gustaría poder-hablar, ¡ya!", ["me", "gustaría", "poder", "hablar", "ya"]),
        ("NIÑO's 2 años", ["niño", "s", "2", "años"]),
        ("cafe\u{301} ÉL", ["cafe\u{301}", "él"]),
        ("  ...  ", []),
    ])
    func splitsWords(_ text: String, _ words: [String]) {
        #expect(CourseRules.words(in: text) == words)
    }

    @Test func seedPairs() {
        let errors = CourseRules.seedPairs(items: [
            item("S1", #"{"known": "a", "target": "b"}"#),
            item("S2", #"{"known": "a"}"#),
            item("S3", #"{"known": "  ", "target": 3}"#),
            item("S4", #""just text""#),
        ])
        #expect(summary(errors) == ["missing_field S2", "empty_field S3", "invalid_item S3", "invalid_item S4"])
        #expect(errors[0].message == #""target" is missing"#)
        #expect(errors[2].message == #""target" must be a string, found a number"#)
        #expect(errors[3].message == "S4 must be an object, found a string")
    }

    @Test func legoPairsCoverage() {
        // Covered by the seed's own LEGOs, by components, by an earlier seed of
        // the batch, and by words known from merged seeds.
        let ok = CourseRules.legoPairs(items: [
            seed("S1", "Quiero hablar", ["quiero", "hablar"]),
            seed("S2", "Quiero comer ahora", ["comer"], components: ["ahora"]),
            seed("S3", "Hablo ya", ["hablo"]),
        ], knownWordsBefore: ["ya"])
        #expect(ok.isEmpty)

        let errors = CourseRules.legoPairs(items: [
            seed("S1", "Quiero hablar", ["quiero"]),
            seed("S2", "lo más frecuentamente posible, más", ["lo más", "frecuentemente posible"]),
        ], knownWordsBefore: [])
        #expect(summary(errors) == ["uncovered_word S1", "uncovered_word S2"])
        #expect(errors[0].message == #"target word "hablar" is not covered by any LEGO of this seed or an earlier seed"#)
        #expect(errors[1].message.contains(#""frecuentamente""#))
        // A later seed's LEGOs do not cover an earlier seed.
        let order = CourseRules.legoPairs(items: [seed("S1", "a b", ["a"]), seed("S2", "b", ["b"])], knownWordsBefore: [])
        #expect(summary(order) == ["uncovered_word S1"])
    }

    @Test func legoPairsStructure() {
        let errors = CourseRules.legoPairs(items: [
            item("S1", #"{"seed_id": "S1", "seed_pair": {"known": "", "target": "x"}, "legos": [{"id": "S1L01", "type": "X", "lego": {"known": "k", "target": "x"}}]}"#),
            item("S2", #"{"seed_id": "S2", "seed_pair": {"known": "k", "target": "y"}, "legos": []}"#),
            item("S3", #"{"seed_id": "S3", "legos": [{"type": "A", "lego": {"known": "k"}}, 7]}"#),
        ], knownWordsBefore: [])
        #expect(summary(errors) == [
            "empty_field S1", "invalid_item S1",
            "uncovered_word S2",
            "missing_field S3", "missing_field S3", "missing_field S3", "invalid_item S3",
        ])
        #expect(errors.map(\.message).contains(#"legos[0].type must be "A" or "M", found "X""#))
        #expect(errors.map(\.message).contains(#""legos[0].lego.target" is missing"#))
    }

    @Test func targetWordsOfASeed() {
        let words = CourseRules.targetWords(ofSeedItem: seed("S1", "x", ["Quiero hablar"], components: ["Ahora"]))
        #expect(words == ["quiero", "hablar", "ahora", "molecule"])
    }

    @Test func legoBaskets() {
        let seeds: [JSONValue] = [
            ["seed_id": "S1", "legos": [["id": "S1L01", "new": true], ["id": "S1L02", "new": false], ["id": "S1L03", "new": true]]],
            ["seed_id": "S2", "legos": [["id": "S2L01", "new": true], ["id": "S2L02", "new": true]]],
        ]
        let errors = CourseRules.legoBaskets(items: [
            item("S1L01", #"{"practice_phrases": [{"known": "a", "target": "b"}]}"#),
            item("S1L02", #"{"practice_phrases": [{"known": "a", "target": "b"}]}"#),
            item("S1L03", #"{"practice_phrases": []}"#),
            item("S2L01", #"{"lego": ["a", "b"]}"#),
        ], inputSeeds: seeds)
        #expect(summary(errors) == ["empty_basket S1L03", "empty_basket S2L01", "missing_basket S2L02", "extra_item S1L02"])
        #expect(errors[1].message == #"the basket for S2L01 has no "practice_phrases""#)
        #expect(CourseRules.newLegoIds(of: seeds) == ["S1L01", "S1L03", "S2L01", "S2L02"])
    }

    // MARK: the real course data

    private static func fixtureSeedItems() throws -> [BatchItem] {
        let bytes = CourseFixtures.legoPairs
        let container = try JSONScanner.members(ofTopLevelKey: "seeds", in: bytes)
        return try container.items.map { scanned in
            let value = try JSONParser.parse(bytes[scanned.valueRange])
            return BatchItem(id: value["seed_id"]!.stringValue!, raw: Array(bytes[scanned.valueRange]), value: value)
        }
    }

    @Test(.enabled(if: CourseFixtures.available, CourseFixtures.missingMessage))
    func fixtureHas27SeedsWithUncoveredWords() throws {
        let seeds = try Self.fixtureSeedItems()
        #expect(seeds.count == 668)
        // Batch by batch, as the watcher runs it, with the merged seeds' words as context.
        var known: Set<String> = []
        var errors: [ValidationError] = []
        for start in stride(from: 0, to: seeds.count, by: 20) {
            let batch = Array(seeds[start..<min(start + 20, seeds.count)])
            errors += CourseRules.legoPairs(items: batch, knownWordsBefore: known)
            for seed in batch { known.formUnion(CourseRules.targetWords(ofSeedItem: seed)) }
        }
        let failing = ValidationReport.from(errors: errors).failedItems
        #expect(failing.count == 27)
        #expect(Array(failing.prefix(7)) == ["S0003", "S0123", "S0221", "S0232", "S0240", "S0407", "S0413"])
        #expect(errors.allSatisfy { $0.type == "uncovered_word" })
        #expect(errors.first { $0.item == "S0003" }?.message
            == #"target word "frecuentamente" is not covered by any LEGO of this seed or an earlier seed"#)
        // One batch of everything finds the same seeds.
        let whole = CourseRules.legoPairs(items: seeds, knownWordsBefore: [])
        #expect(ValidationReport.from(errors: whole).failedItems == failing)
    }

    @Test(.enabled(if: CourseFixtures.available, CourseFixtures.missingMessage))
    func fixtureBasketsMatchTheNewLegosOfTheirSeeds() throws {
        let seeds = try Self.fixtureSeedItems().prefix(100).map(\.value)
        let bytes = CourseFixtures.legoBaskets
        let container = try JSONScanner.members(ofTopLevelKey: "baskets", in: bytes)
        var baskets: [BatchItem] = []
        for scanned in container.items where (CourseFixtures.batchOf(scanned.key!) ?? 99) < 5 {
            baskets.append(BatchItem(id: scanned.key!, raw: Array(bytes[scanned.valueRange]),
                                     value: try JSONParser.parse(bytes[scanned.valueRange])))
        }
        #expect(baskets.count == 422)
        #expect(CourseRules.newLegoIds(of: seeds).count == 422)
        // Every new LEGO has its basket and there are no others; but 24 of
        // them have no practice phrases in the fixture ("phrase_count": 0).
        let errors = CourseRules.legoBaskets(items: baskets, inputSeeds: seeds)
        let emptyInFixture = baskets.filter { $0.value["phrase_count"] == 0 }.map(\.id)
        #expect(emptyInFixture.count == 24)
        #expect(errors.allSatisfy { $0.type == "empty_basket" })
        #expect(errors.compactMap(\.item) == emptyInFixture)
        let complete = baskets.filter { $0.value["phrase_count"] != 0 }
        let completeSeeds = seeds.map { seed -> JSONValue in
            // Drop the LEGOs whose baskets are empty from the input, so the rest must match exactly.
            guard case .object(var members) = seed, let index = members.firstIndex(where: { $0.key == "legos" }) else { return seed }
            members[index].value = .array(seed["legos"]!.arrayValue!.filter { !emptyInFixture.contains($0["id"]?.stringValue ?? "") })
            return .object(members)
        }
        #expect(CourseRules.legoBaskets(items: complete, inputSeeds: completeSeeds).isEmpty)

        // Take one away, empty another, add one from a later seed.
        var broken = complete
        let removed = broken.remove(at: 10)
        broken[0].value = ["practice_phrases": []]
        broken.append(item("S0101L01", #"{"practice_phrases": [{"known": "a", "target": "b"}]}"#))
        let brokenErrors = CourseRules.legoBaskets(items: broken, inputSeeds: completeSeeds)
        #expect(summary(brokenErrors) == ["empty_basket \(complete[0].id)", "missing_basket \(removed.id)", "extra_item S0101L01"])
    }
}
