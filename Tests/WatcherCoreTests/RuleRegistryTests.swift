import Testing
import WatcherCore

private struct Named: RuleSet {
    var name: String
    var tag: String
    var needs: RuleContext.Needs { [] }
    func check(_ items: [BatchItem], context: RuleContext) -> [ValidationError] {
        items.map { ValidationError(type: tag, item: $0.id, message: name) }
    }
}

@Suite struct RuleRegistryTests {
    @Test func setsAreFoundByNameAndALaterOneReplacesAnEarlierOne() {
        var registry = RuleRegistry([Named(name: "a", tag: "first"), Named(name: "b", tag: "b")])
        registry.register(Named(name: "a", tag: "second"))
        #expect(registry.names == ["a", "b"])
        #expect(registry["c"] == nil)
        let errors = registry["a"]?.check([BatchItem(id: "S1", value: .null)], context: RuleContext(batch: BatchID(run: "r", phase: "1", index: 1)))
        #expect(errors?.map(\.type) == ["second"])
    }

    @Test func specRulesAreCheckedAgainstTheNamesGiven() {
        var spec = PipelineSpec(run: "r", items: .init(file: "s"), phases: [
            .init(id: "1", output: .init(file: "o", strategy: .object)),
            .init(id: "2", output: .init(file: "p", strategy: .object)),
            .init(id: "3", output: .init(file: "q", strategy: .object)),
        ])
        spec.phases[0].rules = "b"
        spec.phases[2].rules = "x"
        #expect(spec.ruleProblems(knownRules: ["b", "a"]) == [#"phases[2].rules: expected one of a, b, got "x""#])
        #expect(spec.ruleProblems(knownRules: []) == [
            #"phases[0].rules: expected no rules (no rule set is registered), got "b""#,
            #"phases[2].rules: expected no rules (no rule set is registered), got "x""#,
        ])
        spec.phases[2].rules = nil
        #expect(spec.ruleProblems(knownRules: ["b"]).isEmpty)
    }
}
