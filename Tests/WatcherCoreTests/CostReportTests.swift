import Testing
@testable import WatcherCore

/// Totals, shares and the projection, from the records a live run logs.
@Suite struct CostReportTests {
    func outcome(_ cost: Double?, input: Int = 100, cacheRead: Int = 300, verdict: AgentVerdict = .success) -> AgentOutcome {
        .report(AgentReport(usage: AgentUsage(inputTokens: input, outputTokens: 10, cacheReadTokens: cacheRead, costUSD: cost),
                            verdict: verdict))
    }

    func records(_ m: Machine) -> [EventRecord] {
        var seq: UInt64 = 0
        return m.all.compactMap { effect in
            guard case .log(let e) = effect else { return nil }
            seq += 1
            return EventRecord(seq: seq, ts: "2026-12-01T10:00:00.000000Z", event: e)
        }
    }

    /// a/1: attempt 1 fails ($1), attempt 2 merges ($2); a/2 merges ($1); a/3 not started.
    func threeBatches() -> Machine {
        var m = Machine(smPlan(phases: ["a"], batches: 3))
        m.start()
        m.send(spawned(a1, 1, pid: 1), at: 1001)
        m.send(.agentExited(a1, pid: 1, status: "exit 0", success: true, outputPath: nil,
                            agent: outcome(1, verdict: .failure("error_max_turns", message: nil))), at: 1001.1)
        // The free slot goes to a/2 while a/1 waits for its backoff.
        m.send(spawned(a2, 1, pid: 3), at: 1001.2)
        m.send(.agentExited(a2, pid: 3, status: "exit 0", success: true, outputPath: smPath(a2), agent: outcome(1)), at: 1002.5)
        m.send(.tick, at: 1002.55) // a/1's backoff ends while a/2 holds the slot
        m.send(validated(a2), at: 1002.6)
        m.send(merged(a2), at: 1002.7) // a/1's backoff is over: its attempt 2 takes the slot before a/3
        m.send(spawned(a1, 2, pid: 2), at: 1003)
        m.send(.agentExited(a1, pid: 2, status: "exit 0", success: true, outputPath: smPath(a1), agent: outcome(2)), at: 1003.1)
        m.send(validated(a1, 2), at: 1003.2)
        m.send(merged(a1, 2), at: 1003.3)
        return m
    }

    @Test func totalsSharesAndProjection() throws {
        let m = threeBatches()
        #expect(m.stateOf(a1) == .merged && m.stateOf(a2) == .merged)
        let report = CostReport.build(records(m))
        let run = try #require(report.run("r"))
        #expect(run.totals.attempts == 3 && run.totals.costUSD == 4)
        #expect(run.totals.retryCostUSD == 2 && run.totals.retryShare == 0.5)
        #expect(run.totals.cacheReadShare == 0.75) // 900 of 1200 input tokens
        #expect(run.totals.mergedItems == 4 && run.totals.costPerMergedItem == 1)
        #expect(run.totals.tokens == 3 * 410)
        let p = try #require(run.projection)
        #expect(p.mergedBatches == 2 && p.batchesLeft == 1 && p.perBatchUSD == 2 && p.totalUSD == 6)
        #expect(p.basis.contains("1 batch left × $2.00"))
        let b1 = try #require(run.batches.first { $0.id == a1 })
        #expect(b1.attempts.map(\.verdict) == ["error_max_turns", "success"])
        #expect(run.phases.map(\.totals.costUSD) == [4])
    }

    @Test func aReplayMadeOnceGivesTheSameReport() {
        let rs = records(threeBatches())
        #expect(CostReport.build(rs, replayed: StatusReport.replay(rs)) == CostReport.build(rs))
    }

    @Test func jsonHasTheFiguresAndParsesBack() throws {
        let json = CostReport.build(records(threeBatches())).json
        let run = try #require(json["runs"]?[0])
        #expect(run["cost_usd"]?.doubleValue == 4)
        #expect(run["projection"]?["total_usd"]?.doubleValue == 6)
        #expect(run["batches"]?[0]?["attempts_usage"]?[1]?["verdict"]?.stringValue == "success")
        #expect(try JSONParser.parse(json.serialized()) == json)
    }

    @Test func noProjectionWithoutAMergedPricedBatch() throws {
        var m = Machine(smPlan(phases: ["a"], batches: 2))
        m.start()
        m.send(spawned(a1, 1, pid: 1), at: 1001)
        m.send(.agentExited(a1, pid: 1, status: "exit 0", success: true, outputPath: smPath(a1), agent: outcome(nil)), at: 1001.1)
        m.send(validated(a1), at: 1001.2)
        m.send(merged(a1), at: 1001.3)
        let run = try #require(CostReport.build(records(m)).run("r"))
        #expect(run.totals.unpricedAttempts == 1 && run.projection == nil)
    }
}
