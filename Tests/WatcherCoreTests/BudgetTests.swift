import Testing
@testable import WatcherCore

/// The budget decision, and what the core does with an agent's usage and verdict.
@Suite struct BudgetTests {
    func usage(cost: Double?, tokens: Int = 100, verdict: AgentVerdict = .success) -> AgentOutcome {
        .report(AgentReport(usage: AgentUsage(inputTokens: tokens, costUSD: cost), verdict: verdict))
    }

    func logged(_ effects: [Effect], _ name: String) -> [Event] {
        effects.compactMap { if case .log(let e) = $0, e.event == name { return e }; return nil }
    }

    @Test(arguments: [
        // max, spent, attempts, running, reached
        (10.0, 0.0, 0, 0, false), (10.0, 9.0, 3, 0, false), (10.0, 10.0, 4, 0, true),
        (10.0, 8.0, 4, 1, true),   // 8 + 1 × 2 likely = 10
        (10.0, 7.0, 7, 2, false),  // 7 + 2 × 1 = 9
        (0.0, 0.0, 0, 0, true),
    ])
    func costBudget(max: Double, spent: Double, attempts: Int, running: Int, reached: Bool) {
        let s = RunSpend(costUSD: spent, tokens: 0, attempts: attempts, pricedAttempts: attempts)
        let b = BudgetCheck.breach(.init(maxCostUSD: max), spent: s, running: running)
        #expect((b != nil) == reached)
        if let b { #expect(b.limit == "maxCostUSD" && b.spent == spent && b.running == running) }
    }

    @Test func tokenBudgetAndNoBudget() {
        let s = RunSpend(costUSD: 0, tokens: 900, attempts: 3, pricedAttempts: 0)
        #expect(BudgetCheck.breach(.init(maxTokens: 1000), spent: s, running: 0) == nil)
        #expect(BudgetCheck.breach(.init(maxTokens: 1000), spent: s, running: 1)?.limit == "maxTokens") // 900 + 300
        #expect(BudgetCheck.breach(nil, spent: s, running: 5) == nil)
        #expect(BudgetCheck.leftPerBatch(.init(maxCostUSD: 10), spent: RunSpend(costUSD: 4), remainingBatches: 3) == 2)
        #expect(BudgetCheck.leftPerBatch(.init(maxTokens: 5), spent: RunSpend(), remainingBatches: 3) == nil)
    }

    @Test func usageIsLoggedAndFolded() {
        var m = Machine(smPlan(phases: ["a"], batches: 2))
        m.start()
        m.send(spawned(a1), at: 1001)
        let e = m.send(.agentExited(a1, pid: 101, status: "exit 0", success: true, outputPath: smPath(a1),
                                    agent: usage(cost: 1.5, tokens: 40)), at: 1002)
        let u = logged(e, EventName.agentUsage)
        #expect(u.count == 1 && u.first?.number("cost_usd") == 1.5 && u.first?.int("input_tokens") == 40)
        #expect(m.state.spend["r"] == RunSpend(costUSD: 1.5, tokens: 40, attempts: 1, pricedAttempts: 1))
        var replayed = WatcherState()
        _ = replayed.add(smPlan(phases: ["a"], batches: 2))
        for case .log(let ev) in m.all { replayed.apply(ev) }
        #expect(replayed.spend == m.state.spend)
    }

    @Test func aCLIThatSaysItFailedIsAFailedAttemptWhateverItsExitStatus() {
        var m = Machine(smPlan(phases: ["a"], batches: 1))
        m.start()
        m.send(spawned(a1), at: 1001)
        let e = m.send(.agentExited(a1, pid: 101, status: "exit 0", success: true, outputPath: nil, exitCode: 0,
                                    agent: usage(cost: 0.2, verdict: .failure("error_max_turns", message: "30 turns"))), at: 1002)
        let t = logged(e, EventName.transition).first { $0.to == "retry_wait" }
        #expect(t?.string("class") == "agent_crashed" && t?.string("verdict") == "error_max_turns")
        #expect(m.state.batch(a1)?.lastReport?.errors.first?.message.contains("error_max_turns") == true)
    }

    @Test func aRateLimitVerdictIsTransient() {
        var m = Machine(smPlan(phases: ["a"], batches: 1))
        m.start()
        m.send(spawned(a1), at: 1001)
        let e = m.send(.agentExited(a1, pid: 101, status: "exit 0", success: true, outputPath: nil, exitCode: 0,
                                    agent: usage(cost: 0, verdict: .failure("is_error", message: "API Error: 429 rate limit"))), at: 1002)
        #expect(logged(e, EventName.transition).first?.string("class") == "transient")
        #expect(logged(e, EventName.runBackoff).count == 1)
        #expect(m.state.batch(a1)?.attempt == 0 && m.state.batch(a1)?.state == .retryWait, "no attempt used")
    }

    /// Three batches at $1 each, budget $2: the third never starts; raising the budget or
    /// `resume --force` lets it go on.
    func runToBudget(max: Double) -> Machine {
        var plan = smPlan(phases: ["a"], batches: 3)
        plan.budget = .init(maxCostUSD: max)
        var m = Machine(plan)
        m.start()
        for (k, t) in [(1, 1001.0), (2, 1002.0)] {
            let id = sm("a", k)
            m.send(spawned(id, pid: Int32(100 + k)), at: t)
            m.send(.agentExited(id, pid: Int32(100 + k), status: "exit 0", success: true, outputPath: smPath(id),
                                agent: usage(cost: 1)), at: t + 0.1)
            m.send(validated(id), at: t + 0.2)
            m.send(merged(id), at: t + 0.3)
        }
        return m
    }

    @Test func theBudgetPausesTheRunBeforeTheNextAgent() {
        var m = runToBudget(max: 2)
        #expect(m.stateOf(sm("a", 3)) == .pending)
        let paused = logged(m.all, EventName.runPaused)
        #expect(paused.count == 1 && paused.first?.reason == "budget_reached" && paused.first?.number("spent") == 2)
        #expect(m.state.paused.contains("r"))
        // A plain resume is paused again at once; --force lets it go on.
        #expect(spawns(m.send(ctl(.resume), at: 1010)).isEmpty)
        #expect(m.state.pauseReasons["r"]?.reason == "budget_reached")
        let forced = m.send(.control(ControlCommand(verb: .resume, run: "r", force: true)), at: 1011)
        #expect(spawns(forced) == ["a/3#1"])
        var replayed = WatcherState()
        _ = replayed.add(m.state.plans["r"]!)
        for case .log(let ev) in m.all { replayed.apply(ev) }
        #expect(replayed.budgetOverride == ["r"])
    }

    @Test func raisingTheBudgetLetsTheRunGoOn() {
        var m = runToBudget(max: 2)
        #expect(m.state.paused.contains("r"))
        var raised = m.state.plans["r"]!
        raised.budget = .init(maxCostUSD: 5)
        _ = m.state.add(raised)
        let e = m.send(.tick, at: 1020)
        #expect(logged(e, EventName.runResumed).count == 1)
        #expect(spawns(e) == ["a/3#1"])
        #expect(m.state.budgetLeftPerBatch("r") == 3) // $5 - $2 over the one batch left
    }
}

extension BudgetTests {
    @Test func unreadableOutputIsLoggedAndNotCountedNorGuessedAt() {
        var m = Machine(smPlan(phases: ["a"], batches: 1))
        m.start()
        m.send(spawned(a1), at: 1001)
        let e = m.send(.agentExited(a1, pid: 101, status: "exit 0", success: true, outputPath: smPath(a1),
                                    agent: .unreadable(AgentOutputError("no record of type \"result\""))), at: 1002)
        let u = logged(e, EventName.agentUsage).first
        #expect(u?.string("verdict") == "unreadable" && u?.string("message")?.contains("result") == true)
        #expect(u?.number("cost_usd") == nil)
        #expect(m.state.spend["r"] == RunSpend())
        #expect(m.stateOf(a1) == .validating, "the output is checked as for a text agent")
    }
}
