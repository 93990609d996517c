import Testing
@testable import WatcherCore

/// Puts `id` into `failed` after `reasons.count` attempts, each failing with its reason and
/// fingerprint (a fingerprint of nil leaves it out, like an old log).
private func fail(_ w: inout WatcherState, _ id: BatchID, _ reasons: [(String?, String?)]) {
    for (n, (reason, print)) in reasons.enumerated() {
        let last = n == reasons.count - 1
        w.apply(Event(event: EventName.transition, run: id.run, phase: id.phase, batch: id.index, attempt: n + 1,
                      from: "validating", to: last ? "failed" : "retry_wait", reason: reason,
                      details: print.map { [.init("fingerprint", .string($0))] } ?? []))
    }
}

@Suite struct DrainPlannerTests {
    /// No reason, then crash/missing output, then validation, then timeout; in a class lower
    /// phase first, then fewer attempts used.
    @Test func ordersFailedBatchesByClassThenPhaseThenAttempts() {
        var w = WatcherState()
        _ = w.add(smPlan(phases: ["a", "b"], batches: 4, concurrency: 1))
        fail(&w, sm("b", 1), [("timeout", "t1")])
        fail(&w, sm("a", 1), [("validation_failed", "v1"), ("validation_failed", "v2")])
        fail(&w, sm("a", 2), [("validation_failed", "v3")])
        fail(&w, sm("b", 2), [("agent_crashed", "c1")])
        fail(&w, sm("a", 3), [(nil, nil)])
        fail(&w, sm("b", 3), [("no_output", "n1"), ("agent_crashed", "c2"), ("no_output", "n2")])
        let plan = DrainPlanner.plan(w, run: "r")
        #expect(plan.order.map { smName($0.id) } == ["a/3", "b/2", "b/3", "a/2", "a/1", "b/1"])
        #expect(plan.order.map(\.priority) == [.unknown, .crash, .crash, .validation, .validation, .timeout])
        #expect(plan.heldBack.isEmpty)
        #expect(DrainPlanner.plan(w, run: "r", max: 2).order.map { smName($0.id) } == ["a/3", "b/2"])
    }

    @Test func aBatchThatFailedTwiceAlikeIsHeldBackUnlessForced() {
        var w = WatcherState()
        _ = w.add(smPlan(phases: ["a"], batches: 2, concurrency: 1))
        fail(&w, sm("a", 1), [("validation_failed", "same"), ("validation_failed", "same")])
        fail(&w, sm("a", 2), [("validation_failed", "one"), ("validation_failed", "other")])
        let plan = DrainPlanner.plan(w, run: "r")
        #expect(plan.order.map { smName($0.id) } == ["a/2"])
        #expect(plan.heldBack.map { smName($0.id) } == ["a/1"])
        #expect(plan.heldBack.first?.why.contains("--force") == true)
        #expect(DrainPlanner.plan(w, run: "r", force: true).order.map { smName($0.id) } == ["a/1", "a/2"])
    }

    @Test func fingerprintsIgnoreNumbersAndQuotedText() {
        func report(_ message: String) -> ValidationReport {
            .from(errors: [ValidationError(type: "uncovered_word", item: "S1", message: message)])
        }
        #expect(DrainPlanner.fingerprint(report("word \"abc\" at 12")) == DrainPlanner.fingerprint(report("word \"xyz\" at 345")))
        #expect(DrainPlanner.fingerprint(report("word \"abc\" at 12")) != DrainPlanner.fingerprint(report("basket empty")))
    }

    /// A drain re-queues one batch per free slot, logs each step, and a state rebuilt from the
    /// log mid-drain carries on with the rest.
    @Test func aDrainContinuesFromTheLogAfterARestart() {
        var live = WatcherState()
        let plan = smPlan(phases: ["a"], batches: 3, concurrency: 1, maxAttempts: 1)
        _ = live.add(plan)
        var log: [Event] = []
        func run(_ input: Input, at t: Double) -> [Effect] {
            let effects = live.handle(input, now: smAt(t))
            log += effects.compactMap { if case .log(let e) = $0 { return e }; return nil }
            return effects
        }
        // Every batch fails once.
        for k in 1...3 {
            _ = run(.tick, at: Double(k))
            _ = run(.spawned(sm("a", k), attempt: 1, pid: Int32(100 + k)), at: Double(k) + 0.05)
            _ = run(.agentExited(sm("a", k), pid: Int32(100 + k), status: "exit 1", success: false, outputPath: nil),
                    at: Double(k) + 0.1)
        }
        #expect((1...3).allSatisfy { live.batch(sm("a", $0))?.state == .failed })
        let drained = run(ctl(.drain), at: 10)
        #expect(spawns(drained) == ["a/1#2"], "one free slot: one batch re-queued and started")
        #expect(live.drains["r"] == [sm("a", 2), sm("a", 3)])

        // A restart now: replaying the log gives the same drain queue.
        var replayed = WatcherState()
        _ = replayed.add(plan)
        for e in log { replayed.apply(e) }
        #expect(replayed.drains["r"] == [sm("a", 2), sm("a", 3)])
        #expect(replayed.batch(sm("a", 1))?.state == .spawning)

        // The slot frees: the next one of the drain starts, in the drain's order.
        _ = run(.spawned(sm("a", 1), attempt: 2, pid: 201), at: 10.5)
        let next = run(.agentExited(sm("a", 1), pid: 201, status: "exit 1", success: false, outputPath: nil), at: 11)
        #expect(spawns(next) == ["a/2#2"])
        _ = run(.spawned(sm("a", 2), attempt: 2, pid: 202), at: 11.5)
        _ = run(.agentExited(sm("a", 2), pid: 202, status: "exit 1", success: false, outputPath: nil), at: 12)
        #expect(live.drains["r"] == nil, "the drain is complete once its last batch is re-queued")
        #expect(log.contains { $0.event == EventName.drainCompleted })
    }

    /// Three failed batches, concurrency 1: a drain re-queues one and queues two.
    private func drained(_ log: inout [Event]) -> WatcherState {
        var w = WatcherState()
        _ = w.add(smPlan(phases: ["a"], batches: 3, concurrency: 1, maxAttempts: 1))
        func run(_ input: Input, at t: Double) {
            log += w.handle(input, now: smAt(t)).compactMap { if case .log(let e) = $0 { return e }; return nil }
        }
        for k in 1...3 {
            run(.tick, at: Double(k))
            run(.spawned(sm("a", k), attempt: 1, pid: Int32(100 + k)), at: Double(k) + 0.05)
            run(.agentExited(sm("a", k), pid: Int32(100 + k), status: "exit 1", success: false, outputPath: nil), at: Double(k) + 0.1)
        }
        run(.control(ControlCommand(verb: .drain, run: "r", drainID: "drain-7")), at: 10)
        run(.spawned(sm("a", 1), attempt: 2, pid: 201), at: 10.5)
        return w
    }

    private func records(_ log: [Event]) -> [EventRecord] {
        log.enumerated().map { EventRecord(seq: UInt64($0.offset + 1), ts: "", event: $0.element) }
    }

    @Test func drainStartedCarriesTheDrainsID() {
        var log: [Event] = []
        _ = drained(&log)
        #expect(log.first { $0.event == EventName.drainStarted }?.string("drain_id") == "drain-7")
        var w = WatcherState()
        _ = w.add(smPlan(phases: ["a"], batches: 1))
        let e = w.handle(.control(ControlCommand(verb: .drain, run: "r", id: "cli-1")), now: smAt(1))
            .compactMap { if case .log(let e) = $0, e.event == EventName.drainStarted { return e }; return nil }
        #expect(e.first?.string("drain_id") == "drain-cli-1", "a message without drain_id: named after its id")
    }

    @Test func aPauseEndsTheDrainWithItsReasonAndTheBatchesNotDone() {
        var log: [Event] = []
        var w = drained(&log)
        #expect(w.drains["r"] == [sm("a", 2), sm("a", 3)])
        let before = DrainReport.build(id: "drain-7", starts: records(log).filter { $0.event.event == EventName.drainStarted },
                                       records: records(log))
        #expect(!before.isFinished, "a/1 runs; a/2 and a/3 wait for a slot")
        let paused = w.handle(ctl(.pause), now: smAt(11)).compactMap { if case .log(let e) = $0 { return e }; return nil }
        log += paused
        let completed = paused.first { $0.event == EventName.drainCompleted }
        #expect(completed?.reason == "operator")
        #expect(completed?.strings("not_requeued") == ["a/2", "a/3"])
        #expect(w.drains["r"] == nil)
        var replayed = WatcherState()
        _ = replayed.add(smPlan(phases: ["a"], batches: 3, concurrency: 1, maxAttempts: 1))
        for e in log { replayed.apply(e) }
        #expect(replayed.drains["r"] == nil, "replay ends the drain too")

        let paused1 = DrainReport.build(id: "drain-7", starts: records(log).filter { $0.event.event == EventName.drainStarted },
                                        records: records(log))
        #expect(!paused1.isFinished, "a/1's agent still runs: it ends without a person")
        log += w.handle(.agentExited(sm("a", 1), pid: 201, status: "exit 1", success: false, outputPath: nil), now: smAt(12))
            .compactMap { if case .log(let e) = $0 { return e }; return nil }
        let all = records(log)
        let report = DrainReport.build(id: "drain-7", starts: all.filter { $0.event.event == EventName.drainStarted }, records: all)
        #expect(report.isFinished)
        #expect(report.notDone == 2 && report.processed == 1 && report.failed == 1)
        #expect(report.pauses == [DrainReport.Pause(run: "r", reason: "operator", message: nil)])
        #expect(report.text.contains("not done 2"), "\(report.text)")
        #expect(report.text.contains("run r paused (operator): 2 not done"), "\(report.text)")
        #expect(DrainReport(json: report.json) == report, "drain --report reads it back")
    }

    @Test func aRunPausedByTheWatcherEndsTheDrainToo() {
        var log: [Event] = []
        _ = drained(&log)
        log.append(Event(event: EventName.runPaused, run: "r", reason: "circuit_open", details: [.init("message", .string("exit 1"))]))
        log.append(Event(event: EventName.transition, run: "r", phase: "a", batch: 1, attempt: 2, from: "running", to: "failed",
                         reason: "agent_crashed"))
        let all = records(log)
        let report = DrainReport.build(id: "drain-7", starts: all.filter { $0.event.event == EventName.drainStarted }, records: all)
        #expect(report.isFinished)
        #expect(report.pauses == [DrainReport.Pause(run: "r", reason: "circuit_open", message: "exit 1")])
        #expect(report.json["notDone"]?.intValue == 2)
    }
}
