import Testing
@testable import WatcherCore

/// Whose fault a failure was decides what it costs: attempts, the run's backoff, a pause.
@Suite struct FailureClassTests {
    func crash(_ m: inout Machine, _ id: BatchID, attempt: Int = 1, pid: Int32, at t: Double, log: String = "",
               code: Int = 1) -> [Effect] {
        m.send(.spawned(id, attempt: attempt, pid: pid), at: t)
        return m.send(.agentExited(id, pid: pid, status: "exit \(code)", success: false, outputPath: nil,
                                   exitCode: code, logTail: log), at: t + 0.1)
    }

    @Test(arguments: [
        (FailureClass.invalidOutput, true), (.noOutput, true), (.timeout, true), (.agentCrashed, true),
        (.spawnFailed, false), (.transient, false), (.validatorFailed, false), (.stopped, false),
    ])
    func onlyTheAgentsOwnFailuresUseAnAttempt(_ c: FailureClass, _ uses: Bool) {
        #expect(c.usesAttempt == uses)
    }

    @Test func olderRecordsGetTheirClassFromTheirReason() {
        let cases: [(String, FailureClass)] = [
            ("validation_failed", .invalidOutput), ("merge_conflict", .invalidOutput), ("timeout", .timeout),
            ("agent_crashed", .agentCrashed), ("no_output", .noOutput), ("watcher_restart", .noOutput),
            ("spawn_failed", .spawnFailed),
        ]
        for (reason, c) in cases {
            let e = Event(event: EventName.transition, run: "r", phase: "a", batch: 1, attempt: 1,
                          from: "running", to: "retry_wait", reason: reason)
            #expect(e.failureClass == c, "\(reason)")
        }
    }

    @Test func a529OnStderrIsTransientUsesNoAttemptAndBacksTheWholeRunOff() throws {
        var m = Machine(smPlan(concurrency: 2, maxAttempts: 1))
        m.start()
        let effects = crash(&m, a1, pid: 101, at: 1000, log: "Error: 529 {\"type\":\"overloaded_error\"}\n")
        let t = try #require(smTransitions(effects, of: a1).first)
        #expect(t.to == "retry_wait" && t.reason == "transient")
        #expect(t.string("class") == "transient" && t.bool("attempt_used") == false)
        #expect(m.stateOf(a1) == .retryWait, "maxAttempts 1, yet not failed: no attempt was used")
        #expect(m.state.batch(a1)?.attempt == 0)
        let backoff = try #require(smEvents(effects).first { $0.event == EventName.runBackoff })
        #expect(backoff.int("delay_ms") == 5000 && backoff.int("consecutive") == 1)
        // The whole run waits: a/2's agent finishes, yet nothing starts before the backoff ends.
        m.send(.spawned(a2, attempt: 1, pid: 102), at: 1000.2)
        let during = m.send(.agentExited(a2, pid: 102, status: "exit 1", success: false, outputPath: nil,
                                         exitCode: 1, logTail: "HTTP 429 Too Many Requests"), at: 1001)
        #expect(spawns(during).isEmpty)
        let second = try #require(smEvents(during).first { $0.event == EventName.runBackoff })
        #expect(second.int("delay_ms") == 10000 && second.int("consecutive") == 2, "doubles per consecutive transient failure")
        #expect(m.deadline == 1011)
        #expect(spawns(m.send(.tick, at: 1010)).isEmpty)
        #expect(spawns(m.send(.tick, at: 1011)) == ["a/1#1", "a/2#1"], "the same attempt again")
    }

    @Test func transientPatternsAndExitCodesComeFromTheRule() {
        let rule = PipelineSpec.Transient(exitCodes: [75])
        #expect(rule.match(exitCode: 75, logTail: "") == "exit 75")
        #expect(rule.match(exitCode: 1, logTail: "API Error: Rate limit reached") != nil)
        #expect(rule.match(exitCode: 1, logTail: "You exceeded your current quota") != nil)
        #expect(rule.match(exitCode: 1, logTail: "Overloaded") != nil)
        #expect(rule.match(exitCode: 1, logTail: "TypeError: x is undefined at line 1529") == nil, "529 inside a number is not a status")
        #expect(rule.match(exitCode: 1, logTail: "") == nil)
    }

    @Test func consecutiveCrashesOpenTheCircuitAndResumeClosesIt() throws {
        var m = Machine(smPlan(batches: 3, concurrency: 1, maxAttempts: 5, breaker: 3))
        m.start()
        _ = crash(&m, a1, pid: 101, at: 1000)
        _ = crash(&m, a2, pid: 102, at: 1001)
        let third = crash(&m, sm("a", 3), pid: 103, at: 1002)
        let paused = try #require(smEvents(third).first { $0.event == EventName.runPaused })
        #expect(paused.reason == "circuit_open")
        #expect(paused.string("message")?.contains("3 agents in a row") == true)
        #expect(m.state.paused == ["r"])
        #expect(spawns(m.send(.tick, at: 1100)).isEmpty, "paused: nothing starts")
        // Resume closes it: the count starts again.
        #expect(spawns(m.send(ctl(.resume), at: 1101)) == ["a/1#2"])
        #expect(m.state.consecutiveCrashes["r"] == 0)
        // Replay agrees.
        var replayed = WatcherState()
        _ = replayed.add(smPlan(batches: 3, concurrency: 1, maxAttempts: 5, breaker: 3))
        for e in smEvents(m.all) { replayed.apply(e) }
        #expect(replayed.paused.isEmpty && replayed.consecutiveCrashes["r"] == 0)
    }

    @Test func anOutputResetsTheBreakersCount() {
        var m = Machine(smPlan(batches: 3, concurrency: 1, maxAttempts: 5, breaker: 2))
        m.start()
        _ = crash(&m, a1, pid: 101, at: 1000)
        m.send(.spawned(a2, attempt: 1, pid: 102), at: 1001)
        m.send(exited(a2, pid: 102, output: true), at: 1001.1)
        #expect(m.state.consecutiveCrashes["r"] == 0)
        m.send(validated(a2, 1, smInvalid), at: 1001.2)
        _ = crash(&m, sm("a", 3), pid: 103, at: 1002)
        #expect(m.state.paused.isEmpty, "two crashes, but not in a row")
    }

    @Test func aMissingProgramPausesTheRunOnceWithTheReason() throws {
        var m = Machine(smPlan(concurrency: 2))
        m.start()
        let first = m.send(.spawnFailed(a1, attempt: 1, message: "spawn claude: No such file or directory", missing: true), at: 1000)
        let second = m.send(.spawnFailed(a2, attempt: 1, message: "spawn claude: No such file or directory", missing: true), at: 1000)
        let pauses = smEvents(first + second).filter { $0.event == EventName.runPaused }
        #expect(pauses.count == 1)
        #expect(pauses.first?.reason == "setup_error")
        #expect(pauses.first?.string("message")?.contains("claude") == true)
        #expect(m.state.batch(a1)?.attempt == 0 && m.state.batch(a2)?.attempt == 0)
        #expect(m.state.pauseReasons["r"]?.reason == "setup_error")
    }

    @Test func aValidatorThatCannotRunPausesAndResumeChecksTheSameFileAgain() throws {
        var m = Machine(smPlan(maxAttempts: 1))
        m.start()
        m.send(spawned(a1), at: 1000)
        m.send(exited(a1, output: true), at: 1001)
        let effects = m.send(.validatorFailed(a1, attempt: 1, message: "validator checks/p1.py could not start"), at: 1002)
        let t = try #require(smTransitions(effects, of: a1).first)
        #expect(t.string("class") == "validator_failed" && t.bool("attempt_used") == false)
        #expect(t.string("path") == smPath(a1))
        #expect(!effects.contains { if case .archive = $0 { return true }; return false }, "the output stays where it is")
        #expect(smEvents(effects).contains { $0.event == EventName.runPaused && $0.reason == "validator_failed" })
        // The file seen again (a rescan) is not taken for a new attempt.
        #expect(smTransitions(m.send(written(a1, renamed: true), at: 1003)).isEmpty)
        let resumed = m.send(ctl(.resume), at: 1004)
        #expect(smDescribe(resumed).contains("a/1 retry_wait>validating #1 revalidate"))
        #expect(smDescribe(resumed).contains("validate a/1 #1 a_batch_1.json"))
        #expect(spawns(resumed).isEmpty, "no agent is run again")
    }

    @Test func aCleanStopHandsTheRunningAttemptsBack() throws {
        var m = Machine(smPlan(concurrency: 2))
        m.start()
        m.send(spawned(a1), at: 1000)
        m.send(.spawned(a2, attempt: 1, pid: 102), at: 1000)
        let effects = m.state.stopAgents { $0 == a2 ? smPath(a2) : nil }
        #expect(smDescribe(effects) == ["a/1 running>pending #1 stopped attempt_used=false"])
        #expect(m.state.batch(a1)?.attempt == 0)
        #expect(m.state.batch(a2)?.state == .running, "its output is there: the next start checks it")
        #expect(m.state.batch(a1)?.lastReport == nil)
    }

    @Test func agentsLeftByACleanStopAndKilledAtRestartAreNotCharged() throws {
        var w = WatcherState()
        _ = w.add(smPlan())
        w.apply(Event(event: EventName.transition, run: "r", phase: "a", batch: 1, attempt: 2, from: "spawning", to: "running",
                      details: [.init("pid", .int(4242))]))
        var clean = w
        let charged = w.recover(now: smAt(2000)) { _ in nil }
        #expect(smTransitions(charged).first?.reason == "watcher_restart")
        let free = clean.recover(now: smAt(2000), cleanStop: true) { _ in nil }
        #expect(smTransitions(free).first.map { smDescribe(.log($0)) } == "a/1 running>pending #2 stopped attempt_used=false")
        #expect(clean.batch(a1)?.state == .spawning && clean.batch(a1)?.attempt == 2, "attempt 2 again, not 3")
    }

    @Test func aBackoffThatPassesWhileTheRunIsPausedLeavesNoDueDeadline() {
        var m = Machine(smPlan(concurrency: 1))
        m.start()
        _ = crash(&m, a1, pid: 101, at: 1000, log: "429")
        m.send(ctl(.pause), at: 1001)
        #expect(m.deadline == 1005.1)
        m.send(.tick, at: 1005.1)
        #expect(m.deadline == nil, "nothing is due: the loop sleeps")
        #expect(spawns(m.send(ctl(.resume), at: 1006)) == ["a/1#1"])
    }
}
