import Testing
@testable import WatcherCore

/// Puts batches straight into states through logged records (no live agents).
func smReplay(_ w: inout WatcherState, _ id: BatchID, to state: BatchState, attempt: Int = 1) {
    w.apply(Event(event: EventName.transition, run: id.run, phase: id.phase, batch: id.index, attempt: attempt,
                  from: "pending", to: state.rawValue))
}

func spawns(_ effects: [Effect]) -> [String] {
    effects.compactMap { if case .spawn(let id, let attempt, _) = $0 { return "\(smName(id))#\(attempt)" }; return nil }
}

/// Drives a batch from spawning to merged with its agent gone.
func smFinish(_ m: inout Machine, _ id: BatchID, attempt: Int = 1, pid: Int32, at t: Double) -> [Effect] {
    m.send(spawned(id, attempt, pid: pid), at: t)
    m.send(exited(id, pid: pid, output: true), at: t + 0.1)
    m.send(validated(id, attempt), at: t + 0.2)
    return m.send(merged(id, attempt), at: t + 0.3)
}

@Suite struct SchedulerTests {
    @Test func batchKOfTheNextPhaseWaitsForBatchKOfThisPhase() {
        var m = Machine(smPlan(phases: ["a", "b", "c"], batches: 3, concurrency: 9))
        #expect(spawns(m.start()) == ["a/1#1", "a/2#1", "a/3#1"])
        // a/2 merges first: only b/2 may start; b/1 and b/3 wait for their own a batch.
        #expect(spawns(smFinish(&m, a2, pid: 102, at: 1001)) == ["b/2#1"])
        #expect(m.state.isReady(b1, now: smAt(1002)) == false)
        #expect(m.state.isReady(sm("c", 2), now: smAt(1002)) == false)
        #expect(spawns(smFinish(&m, b2, pid: 202, at: 1002)) == ["c/2#1"])
        #expect(spawns(smFinish(&m, a1, pid: 101, at: 1003)) == ["b/1#1"])
    }

    @Test(arguments: [
        (BatchState.merged, true), (.skipped, true),
        (.pending, false), (.spawning, false), (.running, false), (.validating, false), (.merging, false),
        (.retryWait, false), (.failed, false), (.blocked, false), (.cancelled, false),
    ])
    func onlyAMergedOrSkippedDependencyLetsADependantStart(dependency: BatchState, ready: Bool) {
        var w = WatcherState()
        _ = w.add(smPlan(concurrency: 4))
        smReplay(&w, a1, to: dependency)
        #expect(w.isReady(b1, now: smAt(1000)) == ready)
        #expect(w.isReady(b2, now: smAt(1000)) == false, "b/2 depends on a/2, which is pending")
        let effects = w.handle(.tick, now: smAt(1000))
        #expect(spawns(effects).contains("b/1#1") == ready)
        #expect(!spawns(effects).contains("b/2#1"))
    }

    @Test(arguments: [1, 2, 3, 5])
    func concurrencyLimitsActiveBatchesPerRun(limit: Int) {
        var m = Machine(smPlan(phases: ["a"], batches: 6, concurrency: limit))
        let first = spawns(m.start())
        #expect(first == (1...min(limit, 6)).map { "a/\($0)#1" })
        #expect(m.state.activeCount(run: "r") == min(limit, 6))
        // A tick changes nothing: every slot is taken.
        #expect(spawns(m.send(.tick, at: 1000.5)).isEmpty)
        // One finishes: exactly one more starts, the lowest pending.
        let next = spawns(smFinish(&m, a1, pid: 101, at: 1001))
        #expect(next == (limit < 6 ? ["a/\(limit + 1)#1"] : []))
        #expect(m.state.activeCount(run: "r") == min(limit, 5))
    }

    @Test func anAgentStillStoppingHoldsItsSlot() {
        var m = Machine(smPlan(phases: ["a"], batches: 3, concurrency: 1))
        m.start()
        m.send(spawned(a1), at: 1000)
        m.send(written(a1, renamed: true), at: 1001)
        // Invalid while the agent still runs: retry_wait, but the agent has not exited yet.
        let effects = m.send(validated(a1, 1, smInvalid), at: 1002)
        #expect(spawns(effects).isEmpty)
        #expect(m.state.activeCount(run: "r") == 1)
        #expect(m.state.batch(a1)?.agentAlive == true)
        #expect(spawns(m.send(exited(a1, status: "killed by SIGTERM", success: false, output: false), at: 1002.5)) == ["a/2#1"])
        #expect(m.state.activeCount(run: "r") == 1)
    }

    @Test func orderIsPlanPhaseOrderThenBatchNotNameOrder() {
        // Phase ids that sort the other way as strings: "9" comes before "10" in the plan.
        let plan = RunPlan(run: "r", phases: [.init(id: "9"), .init(id: "10")], itemCount: 6, batchSize: 2,
                           concurrency: 2)
        var w = WatcherState()
        _ = w.add(plan)
        smReplay(&w, sm("9", 1), to: .merged)
        smReplay(&w, sm("9", 3), to: .merged)
        // Ready: 9/2 (no dependency), 10/1, 10/3. Two slots: the lowest phase first, then the lowest batch.
        let effects = w.handle(.tick, now: smAt(1000))
        #expect(spawns(effects) == ["9/2#1", "10/1#1"])
        #expect(plan.batchIDs.map(smName) == ["9/1", "9/2", "9/3", "10/1", "10/2", "10/3"])
    }

    @Test func theSameInputsGiveTheSameSchedule() {
        func run() -> [String] {
            var m = Machine(smPlan(phases: ["a", "b", "c"], batches: 4, concurrency: 3))
            var all = m.start()
            all += smFinish(&m, sm("a", 3), pid: 103, at: 1001)
            all += smFinish(&m, sm("a", 1), pid: 101, at: 1002)
            all += smFinish(&m, b1, pid: 201, at: 1003)
            return smDescribe(all)
        }
        let first = run()
        #expect(first == run())
        #expect(first.filter { $0.hasPrefix("spawn ") } == [
            "spawn a/1 #1", "spawn a/2 #1", "spawn a/3 #1", "spawn a/4 #1", "spawn b/1 #1", "spawn b/3 #1",
        ])
    }

    @Test func aPausedRunStartsNothingUntilResumed() {
        var m = Machine(smPlan(concurrency: 2))
        m.send(ctl(.pause), at: 999)
        #expect(m.state.paused == ["r"])
        #expect(spawns(m.start()).isEmpty)
        #expect(spawns(m.send(.tick, at: 2000)).isEmpty)
        #expect(m.state.batches.values.allSatisfy { $0.state == .pending })
        #expect(spawns(m.send(ctl(.resume), at: 2001)) == ["a/1#1", "a/2#1"])
        #expect(m.state.paused.isEmpty)
    }

    @Test func retryWaitIsNotRescheduledBeforeItsBackoff() {
        var m = Machine(smPlan(phases: ["a"], batches: 1, concurrency: 1))
        m.start()
        m.send(spawned(a1), at: 1000)
        m.send(exited(a1, output: false), at: 1000)
        #expect(m.stateOf(a1) == .retryWait)
        #expect(m.state.isReady(a1, now: smAt(1000.999)) == false)
        #expect(m.state.isReady(a1, now: smAt(1001)) == true)
        #expect(spawns(m.send(.tick, at: 1000.999)).isEmpty)
        #expect(m.deadline == 1001)
        #expect(spawns(m.send(.tick, at: 1001)) == ["a/1#2"])
    }

    @Test func retryWaitIsNotRescheduledWhileItsOldAgentIsAlive() {
        var m = Machine(smPlan(phases: ["a"], batches: 1, concurrency: 3))
        m.start()
        m.send(spawned(a1), at: 1000)
        m.send(written(a1, renamed: true), at: 1000.5)
        m.send(validated(a1, 1, smInvalid), at: 1000.6)
        #expect(m.stateOf(a1) == .retryWait)
        // Backoff over, but the superseded agent has not exited: even with free slots, no new attempt.
        #expect(m.state.isReady(a1, now: smAt(1100)) == false)
        #expect(spawns(m.send(.tick, at: 1100)).isEmpty)
        #expect(spawns(m.send(exited(a1, status: "killed by SIGTERM", success: false, output: false), at: 1101)) == ["a/1#2"])
    }

    @Test func twoRunsAreScheduledIndependently() {
        var m = Machine(smPlan(run: "r", concurrency: 1), smPlan(run: "s", phases: ["x"], batches: 3, concurrency: 2))
        // Runs by name, each with its own limit.
        #expect(spawns(m.start()) == ["a/1#1", "s:x/1#1", "s:x/2#1"])
        #expect(m.state.activeCount(run: "r") == 1)
        #expect(m.state.activeCount(run: "s") == 2)
        // Pausing r does not stop s.
        m.send(ctl(.pause, run: "r"), at: 1000.5)
        #expect(spawns(smFinish(&m, sm("x", 1, run: "s"), pid: 301, at: 1001)) == ["s:x/3#1"])
        // r's failures do not touch s.
        let effects = m.send(.spawnFailed(a1, attempt: 1, message: "x"), at: 1002)
        #expect(effects.allSatisfy {
            if case .log(let e) = $0 { return e.run == "r" }
            return false
        })
        #expect(m.state.paused == ["r"])
        // A control for one run names only that run's batches.
        let cancel = m.send(ctl(.cancel, run: "s"), at: 1003)
        #expect(smTransitions(cancel).allSatisfy { $0.run == "s" })
        #expect(m.stateOf(a1) == .retryWait)
        // x/2 and x/3 never reported a pid, so no agent is waited for: s is complete.
        #expect(cancel.contains(.runCompleted("s")))
        #expect(m.state.completed == ["s"])
    }

    @Test func nextDeadlineIsTheEarliestOfAllBatches() {
        var m = Machine(smPlan(phases: ["a"], batches: 3, concurrency: 3, timeout: 50))
        m.start()
        m.send(spawned(a1, pid: 101), at: 1000)
        m.send(spawned(a2, pid: 102), at: 1001)
        #expect(m.deadline == 1050)
        m.send(written(a2, renamed: false), at: 1002)
        #expect(m.deadline == 1002.2)
        m.send(exited(sm("a", 3), pid: 103, output: false), at: 1003) // not spawned yet: ignored
        #expect(m.stateOf(sm("a", 3)) == .spawning)
    }
}
