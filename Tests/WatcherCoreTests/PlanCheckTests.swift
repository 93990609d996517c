import Testing
@testable import WatcherCore

/// The plan is a fact of the log: every allowed and every refused change of a spec.
@Suite struct PlanCheckTests {
    let ids = (1...10).map { "i\($0)" }
    let shapes = [
        PlanFacts.PhaseShape(id: "1", strategy: "object", input: "items", file: "out/1.json"),
        PlanFacts.PhaseShape(id: "2", strategy: "array", input: "1", file: "out/2.json"),
    ]
    var logged: PlanFacts { PlanFacts(batchSize: 2, segments: [10], itemIDs: ids, phases: shapes, settings: ["timeoutSeconds": "600"]) }

    func compare(batchSize: Int = 2, ids: [String]? = nil, phases: [PlanFacts.PhaseShape]? = nil,
                 settings: [String: String] = ["timeoutSeconds": "600"]) -> PlanCheck {
        PlanCheck.compare(logged: logged, batchSize: batchSize, itemIDs: ids ?? self.ids, phases: phases ?? shapes, settings: settings)
    }

    @Test func theSameSpecChangesNothing() {
        let c = compare()
        #expect(c.isAllowed && !c.extendsPlan && c.changes.isEmpty)
    }

    @Test func aChangedSettingIsAllowedAndListedWithOldAndNew() {
        let c = compare(settings: ["timeoutSeconds": "900", "phases[0].validators[0]": "[\"x\"]"])
        #expect(c.isAllowed)
        #expect(c.changes.map(\.description) == ["phases[0].validators[0]: (unset) -> [\"x\"]", "timeoutSeconds: 600 -> 900"])
    }

    @Test func itemsAppendedAtTheEndBecomeNewBatches() {
        let c = compare(ids: ids + ["i11", "i12", "i13"])
        #expect(c.isAllowed && c.appendedItems == 3)
    }

    @Test func aPhaseAppendedAtTheEndIsAllowed() {
        let c = compare(phases: shapes + [.init(id: "3", strategy: "jsonl", input: "2", file: "out/3.jsonl")])
        #expect(c.isAllowed && c.appendedPhases == 1)
    }

    @Test(arguments: [
        ("batchSize", "batchSize"), ("removed", "items"), ("reordered", "items"), ("renamed", "items"),
        ("phase removed", "phases"), ("phase inserted", "phases[1].id"), ("strategy", "phases[0].output.strategy"),
        ("input", "phases[1].input"), ("main file", "phases[1].output.file"),
    ])
    func changesThatWouldMoveItemsOrChangeWhatWasMergedAreRefused(_ change: String, _ key: String) {
        var items = ids, phases = shapes, size = 2
        switch change {
        case "batchSize": size = 5
        case "removed": items.removeLast()
        case "reordered": items.swapAt(0, 1)
        case "renamed": items[4] = "i5b"
        case "phase removed": phases.removeLast()
        case "phase inserted": phases.insert(.init(id: "1b", strategy: "object", input: "1", file: "out/1b.json"), at: 1)
        case "strategy": phases[0].strategy = "array"
        case "input": phases[1].input = "items"
        case "main file": phases[1].file = "out/other.json"
        default: Issue.record("unknown change \(change)")
        }
        let c = compare(batchSize: size, ids: items, phases: phases)
        #expect(!c.isAllowed)
        #expect(c.refusals.first?.key == key)
        let message = c.refusalMessage(run: "r").joined(separator: "\n")
        #expect(message.contains("put the keys above back") && message.contains("\"r-2\""), "the two ways on")
    }

    @Test func theRefusalNamesTheLoggedAndTheNewValue() {
        let c = compare(batchSize: 5)
        #expect(c.refusals.first?.description == "batchSize: the log fixed 2 when the run started; the spec now has 5 (items would move to other batches)")
    }

    @Test func olderLogsWithoutShapesCompareWhatTheyHave() {
        var old = logged
        old.itemsDigest = nil
        old.phases = shapes.map { .init(id: $0.id, strategy: nil, input: nil, file: nil) }
        old.settings = [:]
        var reordered = ids
        reordered.swapAt(0, 1)
        let c = PlanCheck.compare(logged: old, batchSize: 2, itemIDs: reordered, phases: shapes, settings: ["x": "1"])
        #expect(c.isAllowed && c.changes.isEmpty)
    }

    @Test func factsRoundTripThroughTheirRecord() throws {
        let e = Event(event: EventName.runStarted, run: "r", details: [
            .init("items", .int(10)), .init("batch_size", .int(2)),
        ] + logged.details)
        let back = try #require(PlanFacts(runStarted: e))
        #expect(back == logged)
    }

    @Test func segmentsCutBatchesSeparately() {
        var plan = RunPlan(run: "r", phases: [.init(id: "1")], itemCount: 5, batchSize: 2)
        plan.segments = [5, 3]
        #expect(plan.batchCount == 5)
        #expect((1...5).map { plan.itemRange(ofBatch: $0) } == [0..<2, 2..<4, 4..<5, 5..<7, 7..<8])
        #expect((0..<8).map { plan.batch(ofItemAt: $0) } == [1, 1, 2, 2, 3, 4, 4, 5])
    }

    @Test func extendingACompletedRunReopensItAndKeepsTheOldBatches() {
        var m = Machine(smPlan(phases: ["a"], batches: 1, maxAttempts: 1))
        m.start()
        m.send(spawned(a1), at: 1000)
        m.send(exited(a1, output: true), at: 1001)
        m.send(validated(a1), at: 1002)
        m.send(merged(a1), at: 1003)
        #expect(m.state.completed == ["r"])
        var grown = smPlan(phases: ["a"], batches: 1, maxAttempts: 1)
        grown.segments = [2, 3]
        let effects = m.state.extend(grown, facts: [], now: smAt(1004))
        let e = smEvents(effects).first
        #expect(e?.event == EventName.runExtended && e?.int("added_items") == 3 && e?.int("added_batches") == 2)
        #expect(m.state.completed.isEmpty)
        #expect(m.state.batch(a1)?.state == .merged)
        #expect(spawns(effects) == ["a/2#1"])
    }
}
