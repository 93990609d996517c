import Testing
@testable import WatcherCore

/// `agent.output`, `prices` and `budget` as the spec reader reads them.
@Suite struct CostSpecTests {
    func decode(_ members: String, phaseAgent: String = "") -> Result<PipelineSpec, SpecProblems> {
        let phase = #"{"id": "1", "output": {"file": "o.json", "strategy": "object"}\#(phaseAgent)}"#
        let text = #"{"run": "r", "items": {"file": "i.json"}, \#(members), "phases": [\#(phase)]}"#
        return PipelineSpec.decode(Array(text.utf8))
    }

    @Test func outputPricesAndBudgetDecode() throws {
        let spec = try decode(#"""
            "agent": {"argv": ["claude"], "output": "claude-json"},
            "prices": {"gemini-2.5-pro": {"input": 1.25, "output": 10, "cacheRead": 0.31}},
            "budget": {"maxCostUSD": 12.5, "maxTokens": 2000000}
            """#, phaseAgent: #", "agent": {"argv": ["gemini"], "output": "gemini-json"}"#).get()
        #expect(spec.agent?.output == .claudeJSON)
        #expect(spec.agent(for: spec.phases[0])?.output == .geminiJSON)
        #expect(spec.prices["gemini-2.5-pro"] == .init(input: 1.25, output: 10, cacheRead: 0.31, cacheWrite: 0))
        #expect(spec.budget == .init(maxCostUSD: 12.5, maxTokens: 2_000_000))
        #expect(spec.settings["budget.maxCostUSD"] == "12.5")
    }

    @Test func aPhaseInheritsTheRunsOutputKindAndTextIsTheDefault() throws {
        let spec = try decode(#""agent": {"argv": ["codex"], "output": "codex-jsonl"}"#).get()
        #expect(spec.agent(for: spec.phases[0])?.output == .codexJSONL)
        let plain = try decode(#""agent": {"argv": ["x"]}"#).get()
        #expect(plain.agent(for: plain.phases[0])?.output == .text)
    }

    @Test func badValuesAreReportedByKey() {
        guard case .failure(let e) = decode(#"""
            "agent": {"argv": ["x"], "output": "json"}, "prices": {"m": {"input": -1, "outptu": 2}},
            "budget": {"maxCost": 3}
            """#) else { Issue.record("decoded"); return }
        let summaries = e.problems.map(\.summary)
        #expect(summaries.contains { $0.hasPrefix("agent.output: expected one of text, claude-json, gemini-json, codex-jsonl") })
        #expect(summaries.contains { $0.hasPrefix("prices.m.outptu: unknown key; did you mean output?") })
        #expect(summaries.contains { $0.hasPrefix("prices.m.output: missing") })
        #expect(summaries.contains { $0.hasPrefix("budget.maxCost: unknown key; did you mean maxCostUSD?") })
    }
}

extension CostSpecTests {
    @Test func budgetPlaceholderNeedsACostBudget() {
        let argv = #""agent": {"argv": ["claude", "--max-budget-usd", "{budget_usd}"]}"#
        guard case .failure(let e) = decode(argv) else { Issue.record("decoded"); return }
        #expect(e.problems.map(\.summary).contains { $0.hasPrefix("agent.argv: {budget_usd} needs budget.maxCostUSD") })
        if case .failure(let e) = decode(argv + #", "budget": {"maxCostUSD": 5}"#) { Issue.record("\(e)") }
    }
}
