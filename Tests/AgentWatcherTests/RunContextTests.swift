import Testing
@testable import AgentWatcher
@testable import WatcherCore
import WatcherSystem

/// Five seeds, batches of two: 1 = S0001-S0002, 2 = S0003-S0004, 3 = S0005.
private let seeds = """
{"course": "c", "seeds": [
  {"id": "S0001", "known": "one"},
  {"id": "S0002", "known": "two"},
  {"id": "S0003", "known": "three"},
  {"id": "S0004", "known": "four"},
  {"id": "S0005", "known": "five"}
]}
"""

private func spec(items: PipelineSpec.ItemSource = .init(file: "data/seeds.json", key: "seeds", idField: "id"),
                  phases: [PipelineSpec.PhaseSpec]? = nil) -> PipelineSpec {
    var s = PipelineSpec(run: "r", items: items, phases: phases ?? [
        .init(id: "1", output: .init(file: "out/one.json", strategy: .object, key: "translations")),
        .init(id: "3", output: .init(file: "out/three.json", strategy: .array, key: "seeds", idField: "seed_id")),
        .init(id: "5", output: .init(file: "out/five.jsonl", strategy: .jsonl, idField: "seed_id")),
        .init(id: "6", output: .init(file: "out/six.json", strategy: .object, key: "baskets")),
        .init(id: "7", output: .init(file: "out/seven.json", strategy: .object)),
    ])
    s.batchSize = 2
    s.agent = .init(argv: ["agent"])
    return s
}

/// A context for `spec` in a fresh folder holding the seeds; `files` are written first.
private func withContext(_ s: PipelineSpec = spec(), files: [String: String] = [:], rules: RuleRegistry = RuleRegistry(),
                         _ body: (RunContext, String) throws -> Void) throws {
    try withTemporaryFolder { dir in
        try writeText(dir + "/data/seeds.json", seeds)
        for (name, text) in files { try writeText(dir + "/" + name, text) }
        try body(try RunContext(spec: s, specPath: dir + "/pipeline.json", rules: rules), dir)
    }
}

private func sm(_ phase: String, _ index: Int) -> BatchID { BatchID(run: "r", phase: phase, index: index) }
private func ids(_ items: [(id: String, raw: [UInt8])]) -> [String] { items.map(\.id) }
private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// A rule set that reports, per item, the ids of the context it was given.
private struct ContextEcho: RuleSet {
    var name: String { "echo" }
    var needs: RuleContext.Needs
    func check(_ items: [BatchItem], context: RuleContext) -> [ValidationError] {
        items.map { item in
            ValidationError(type: "echo", item: item.id, message: "batch \(context.batch.index) input "
                + context.inputItems.map(\.id).joined(separator: ",") + " earlier " + context.earlierItems.map(\.id).joined(separator: ","))
        }
    }
}

private func withRule(_ rule: String) -> PipelineSpec {
    var s = spec()
    s.phases[1].rules = rule
    return s
}

@Suite struct RunContextTests {
    @Test func aPhaseNamingNoRegisteredRuleSetIsASpecErrorNamingTheKey() throws {
        try withTemporaryFolder { dir in
            try writeText(dir + "/data/seeds.json", seeds)
            for (rules, expected) in [
                (RuleRegistry([ContextEcho(needs: [])]), #"phases[1].rules: expected one of echo, got "nope""#),
                (RuleRegistry(), #"phases[1].rules: expected no rules (no rule set is registered), got "nope""#),
            ] {
                do {
                    _ = try RunContext(spec: withRule("nope"), specPath: dir + "/pipeline.json", rules: rules)
                    Issue.record("accepted an unknown rule set")
                } catch let e as SpecError {
                    #expect(e.path == dir + "/pipeline.json")
                    #expect(e.problems.map(\.summary) == [expected])
                }
            }
            let ctx = try RunContext(spec: withRule("echo"), specPath: dir + "/pipeline.json", rules: RuleRegistry([ContextEcho(needs: [])]))
            #expect(ctx.rules.names == ["echo"])
        }
    }

    @Test(arguments: [
        (RuleContext.Needs(), "batch 2 input  earlier "),
        (.inputItems, "batch 2 input S0003,S0004 earlier "),
        (.earlierItems, "batch 2 input  earlier S0001,S0002"),
        ([.inputItems, .earlierItems], "batch 2 input S0003,S0004 earlier S0001,S0002"),
    ] as [(RuleContext.Needs, String)])
    func theValidatorRunsTheRegisteredRuleSetWithTheContextItAsksFor(needs: RuleContext.Needs, message: String) throws {
        let one = #"{"translations": {"S0001": 1, "S0002": 2, "S0003": 3, "S0004": 4}}"#
        let three = #"{"seeds": [{"seed_id": "S0001"}, {"seed_id": "S0002"}]}"#
        try withContext(withRule("echo"), files: ["out/one.json": one, "out/three.json": three],
                        rules: RuleRegistry([ContextEcho(needs: needs)])) { ctx, _ throws in
            let batch = Array(#"{"seeds": [{"seed_id": "S0003"}, {"seed_id": "S0004"}]}"#.utf8)
            let (report, unparseable, _) = try BatchValidator(context: ctx).check(sm("3", 2), phase: ctx.spec.phases[1], bytes: batch)
            #expect(!unparseable)
            #expect(report.errors.map(\.item) == ["S0003", "S0004"])
            #expect(report.errors.map(\.message) == [message, message])
        }
    }

    @Test func itemIDsAndBatchRanges() throws {
        try withContext { ctx, dir throws in
            #expect(ctx.itemIDs == ["S0001", "S0002", "S0003", "S0004", "S0005"])
            #expect(ctx.baseDir == dir)
            #expect(ctx.plan.batchCount == 3)
            #expect(ctx.plan.batchIDs.count == 15)
            #expect(ctx.ids(ofBatch: 1) == ["S0001", "S0002"])
            #expect(ctx.ids(ofBatch: 2) == ["S0003", "S0004"])
            #expect(ctx.ids(ofBatch: 3) == ["S0005"])
            #expect(ctx.resolve("out/one.json") == dir + "/out/one.json")
            #expect(ctx.resolve("/abs/x") == "/abs/x")
            #expect(ctx.mainPath(ctx.spec.phases[0]) == dir + "/out/one.json")
        }
    }

    @Test(arguments: [
        ("S0001", 1), ("S0002", 1), ("S0003", 2), ("S0005", 3),
        ("S0001L01", 1), ("S0004L12", 2), ("S0005L01X", 3),
        ("X0001", nil), ("S000", nil), ("", nil), ("S0006", nil),
    ] as [(String, Int?)])
    func batchOfAnIDOrADerivedID(id: String, batch: Int?) throws {
        try withContext { ctx, _ throws in #expect(ctx.batchOf(id) == batch) }
    }

    @Test func inputItemsOfTheFirstPhaseComeFromTheItemsFileVerbatim() throws {
        try withContext { ctx, _ throws in
            let items = try ctx.inputItems(for: sm("1", 2))
            #expect(ids(items) == ["S0003", "S0004"])
            #expect(items.map { text($0.raw) } == [#"{"id": "S0003", "known": "three"}"#, #"{"id": "S0004", "known": "four"}"#])
            #expect(try text(ctx.inputJSON(for: sm("1", 3))) == "[\n  {\"id\": \"S0005\", \"known\": \"five\"}\n]")
        }
    }

    @Test func inputItemsOfALaterPhaseComeFromThePreviousPhasesMainFileInItsOrder() throws {
        let one = #"{"version": "1", "translations": {"S0004": {"t": "cuatro"}, "S0001": {"t": "uno"}, "S0003": {"t": "tres"}}}"#
        try withContext(files: ["out/one.json": one]) { ctx, _ throws in
            let items = try ctx.inputItems(for: sm("3", 2))
            #expect(ids(items) == ["S0004", "S0003"])
            #expect(items.map { text($0.raw) } == [#"{"t": "cuatro"}"#, #"{"t": "tres"}"#])
            #expect(try ids(ctx.inputItems(for: sm("3", 1))) == ["S0001"])
            #expect(try ctx.inputItems(for: sm("3", 3)).isEmpty)
            #expect(try text(ctx.inputJSON(for: sm("3", 3))) == "{\n}")
            // An object-strategy input keeps its keys: the ids reach the prompt.
            #expect(try text(ctx.inputJSON(for: sm("3", 2))) == "{\n  \"S0004\": {\"t\": \"cuatro\"},\n  \"S0003\": {\"t\": \"tres\"}\n}")
        }
    }

    @Test func inputItemsFromAnArrayAndAJSONLinesMainFile() throws {
        let three = #"{"seeds": [{"seed_id": "S0002", "legos": []}, {"seed_id": "S0001", "legos": [1]}, {"seed_id": "S0003"}]}"#
        let five = "{\"seed_id\": \"S0003\", \"b\": 1}\n{\"seed_id\": \"S0001\", \"b\": 2}\n{\"seed_id\": \"S0002\"}\n"
        try withContext(files: ["out/three.json": three, "out/five.jsonl": five]) { ctx, _ throws in
            let fromArray = try ctx.inputItems(for: sm("5", 1))
            #expect(ids(fromArray) == ["S0002", "S0001"])
            #expect(text(fromArray[1].raw) == #"{"seed_id": "S0001", "legos": [1]}"#)
            let fromLines = try ctx.inputItems(for: sm("6", 1))
            #expect(ids(fromLines) == ["S0001", "S0002"])
            #expect(text(fromLines[0].raw) == #"{"seed_id": "S0001", "b": 2}"#)
            #expect(try ids(ctx.inputItems(for: sm("6", 2))) == ["S0003"])
        }
    }

    @Test func inputItemsKeyedByDerivedIDsBelongToTheirSeedsBatch() throws {
        // Phase 6's main file holds baskets keyed by LEGO ids; phase 7 reads them per batch.
        let six = #"{"baskets": {"S0001L01": [1], "S0003L01": [2], "S0001L02": [3], "S0004L01": [4], "S0005L01": [5]}}"#
        try withContext(files: ["out/six.json": six]) { ctx, _ throws in
            #expect(try ids(ctx.inputItems(for: sm("7", 1))) == ["S0001L01", "S0001L02"])
            #expect(try ids(ctx.inputItems(for: sm("7", 2))) == ["S0003L01", "S0004L01"])
            #expect(try ids(ctx.inputItems(for: sm("7", 3))) == ["S0005L01"])
        }
    }

    @Test func aMissingInputMainFileGivesNoItems() throws {
        try withContext { ctx, _ throws in
            #expect(try ctx.inputItems(for: sm("3", 1)).isEmpty)
            #expect(try ctx.inputItems(for: sm("nope", 1)).isEmpty)
        }
    }

    @Test func anObjectItemsFileUsesItsKeys() throws {
        let s = spec(items: .init(file: "data/map.json"))
        try withContext(s, files: ["data/map.json": #"{"b": 1, "a": {"x": 2}, "c": "3"}"#]) { ctx, _ throws in
            #expect(ctx.itemIDs == ["b", "a", "c"])
            #expect(ctx.plan.batchCount == 2)
            #expect(try text(ctx.inputJSON(for: sm("1", 1))) == "{\n  \"b\": 1,\n  \"a\": {\"x\": 2}\n}")
        }
    }

    @Test(arguments: [
        ("data/seeds.json", PipelineSpec.ItemSource(file: "data/nope.json", key: "seeds", idField: "id"), "items.file: cannot read"),
        ("data/list.json", .init(file: "data/list.json"), "set idField"),
        ("data/list.json", .init(file: "data/list.json", idField: "name"), "has no string \"name\""),
        ("data/dup.json", .init(file: "data/dup.json", idField: "id"), "item id \"S1\" appears twice"),
        ("data/seeds.json", .init(file: "data/seeds.json", key: "nope", idField: "id"), "items.file: "),
    ] as [(String, PipelineSpec.ItemSource, String)])
    func badItemsFilesAreSpecErrorsNamingTheKey(file: String, items: PipelineSpec.ItemSource, fragment: String) throws {
        try withTemporaryFolder { dir in
            try writeText(dir + "/data/seeds.json", seeds)
            try writeText(dir + "/data/list.json", #"[{"id": "S1"}, {"id": "S2"}]"#)
            try writeText(dir + "/data/dup.json", #"[{"id": "S1"}, {"id": "S1"}]"#)
            do {
                _ = try RunContext(spec: spec(items: items), specPath: dir + "/pipeline.json", rules: RuleRegistry())
                Issue.record("accepted \(items)")
            } catch let e as SpecError {
                #expect(e.path == dir + "/pipeline.json")
                #expect(e.problems.count == 1)
                #expect(e.problems.first?.summary.hasPrefix("items.file: ") == true)
                #expect(e.description.contains(fragment), "\(e.description)")
            }
        }
    }

    @Test func instructionsFromAFileOrAStandIn() throws {
        var s = spec()
        s.phases[0].instructions = "prompts/one.md"
        s.phases[1].name = "decomposition"
        try withContext(s, files: ["prompts/one.md": "# Translate\n"]) { ctx, _ throws in
            #expect(try ctx.instructions(for: ctx.spec.phases[0]) == "# Translate\n")
            #expect(try ctx.instructions(for: ctx.spec.phases[1]).hasPrefix("# Phase 3: decomposition\n"))
        }
    }

    // MARK: Placeholders

    @Test(arguments: [
        ("{output}", "/o/1_batch_2.json"),
        ("--batch={batch}", "--batch=2"),
        ("{run}-{phase}-{batch}-{attempt}", "r-1-2-3"),
        ("{start}..{end}", "3..4"),
        ("plain", "plain"),
        ("{unknown}", "{unknown}"),
        ("a{unknown}b{run}", "a{unknown}br"),
        ("{}", "{}"),
        ("{{run}}", "{{run}}"),
        ("x{run", "x{run"),
        ("pre{run}post{", "prerpost{"),
        ("{run}{run}", "rr"),
        ("}{run}{", "}r{"),
        ("ünï{run}cødé", "ünïrcødé"),
    ])
    func placeholders(template: String, expected: String) {
        let values = ["output": "/o/1_batch_2.json", "run": "r", "phase": "1", "batch": "2", "attempt": "3",
                      "start": "3", "end": "4"]
        #expect(Placeholders.fill(template, values) == expected)
    }
}
