import Testing
@testable import WatcherCore

/// `retry RUN PHASE --rebuild` as the core decides it: which merged batches the shell re-merges,
/// when it refuses, and that its answer lifts a `main_file_changed` pause (live and replayed).
@Suite struct RebuildTests {
    let rebuild = ControlCommand(verb: .retry, run: "r", phase: "a", rebuild: true)

    /// a/1 merged (checksum c1), a/2 waiting in retry_wait with main_file_changed, the run paused.
    func pausedMachine() -> Machine {
        var m = Machine(smPlan(concurrency: 2))
        m.start()
        for s in toMerged { m.send(s.input, at: s.at) }
        m.send(spawned(a2, pid: 102), at: 1004)
        m.send(exited(a2, pid: 102, output: true), at: 1004.1)
        m.send(validated(a2, checksum: "c2"), at: 1004.2)
        m.send(.mainFileChanged(a2, attempt: 1, message: "shrank"), at: 1004.3)
        return m
    }

    @Test func theRebuildAsksForEveryMergedBatchOfThePhaseInOrder() throws {
        var m = pausedMachine()
        #expect(m.state.paused.contains("r"))
        #expect(m.stateOf(a2) == .retryWait)
        let effects = m.send(.control(rebuild), at: 1005)
        #expect(smDescribe(effects) == ["rebuild r/a a/1=c1"])
        let answer = m.send(.mainFileRebuilt(rebuild, batches: 1, refusal: nil), at: 1005.1)
        let applied = try #require(smEvents(answer).first { $0.event == EventName.controlApplied })
        #expect(applied.bool("rebuild") == true)
        #expect(applied.int("batches") == 1)
        #expect(!m.state.paused.contains("r"), "the main_file_changed pause is lifted")
        // The waiting batch goes on: its file, kept in the outbox, is checked again (no new agent).
        #expect(smDescribe(answer).contains("validate a/2 #1 a_batch_2.json"), "\(smDescribe(answer))")
        #expect(m.stateOf(a2) == .validating)
    }

    @Test func replayOfTheAnswerLiftsThePauseToo() {
        var m = pausedMachine()
        m.send(.control(rebuild), at: 1005)
        m.send(.mainFileRebuilt(rebuild, batches: 1, refusal: nil), at: 1005.1)
        var replayed = WatcherState()
        _ = replayed.add(smPlan(concurrency: 2))
        for case .log(let e) in m.all { replayed.apply(e) }
        #expect(!replayed.paused.contains("r"))
    }

    @Test func aRefusalIsRejectedAndThePauseStays() throws {
        var m = pausedMachine()
        m.send(.control(rebuild), at: 1005)
        let answer = m.send(.mainFileRebuilt(rebuild, batches: 1, refusal: "no file holds a/1"), at: 1005.1)
        let rejected = try #require(smEvents(answer).first { $0.event == EventName.controlRejected })
        #expect(rejected.reason == "no file holds a/1")
        #expect(m.state.paused.contains("r"))
    }

    @Test func anotherPauseIsNotLifted() {
        var m = Machine(smPlan())
        m.start()
        for s in toMerged { m.send(s.input, at: s.at) }
        m.send(.control(ControlCommand(verb: .pause, run: "r")), at: 1004)
        m.send(.control(rebuild), at: 1005)
        m.send(.mainFileRebuilt(rebuild, batches: 1, refusal: nil), at: 1005.1)
        #expect(m.state.paused.contains("r"), "an operator's pause stays")
    }

    @Test(arguments: [
        ("an unknown phase", ControlCommand(verb: .retry, run: "r", phase: "zz", rebuild: true), "no phase zz in run r"),
        ("an unknown run", ControlCommand(verb: .retry, run: "q", phase: "a", rebuild: true), "unknown run q"),
    ])
    func refusedUpFront(_ name: String, _ c: ControlCommand, _ reason: String) throws {
        var m = Machine(smPlan())
        m.start()
        for s in toMerged { m.send(s.input, at: s.at) }
        let effects = m.send(.control(c), at: 1005)
        #expect(effects.count == 1)
        #expect(smEvents(effects).first?.reason == reason)
    }

    @Test func refusedWhileABatchOfThePhaseIsMergingOrNoneIsMerged() {
        var m = Machine(smPlan())
        m.start()
        #expect(smEvents(m.send(.control(rebuild), at: 1000.5)).first?.reason == "no batch of phase a is merged: there is nothing to rebuild")
        for s in toMerging { m.send(s.input, at: s.at) }
        #expect(m.stateOf(a1) == .merging)
        #expect(smEvents(m.send(.control(rebuild), at: 1002.5)).first?.reason == "batch a/1 is merging: try again once it has")
    }

    @Test func theControlMessageIsParsed() {
        let ok = ControlCommand.parse(.object([("command", .string("retry")), ("run", .string("r")), ("phase", .string("a")), ("rebuild", .bool(true))]))
        #expect(ok == .success(ControlCommand(verb: .retry, run: "r", phase: "a", rebuild: true)))
        let withBatch = ControlCommand.parse(.object([("command", .string("retry")), ("run", .string("r")), ("phase", .string("a")),
                                                      ("batch", .number(1)), ("rebuild", .bool(true))]))
        #expect((try? withBatch.get()) == nil)
        let noBatch = ControlCommand.parse(.object([("command", .string("retry")), ("run", .string("r")), ("phase", .string("a"))]))
        #expect((try? noBatch.get()) == nil)
    }

    @Test func acceptedNames() {
        #expect(AcceptedName.holds("a_batch_1.json", output: "a_batch_1.json"))
        #expect(AcceptedName.holds("a_batch_1.json.2", output: "a_batch_1.json"))
        #expect(!AcceptedName.holds("a_batch_1.json.1", output: "a_batch_1.json"))
        #expect(!AcceptedName.holds("a_batch_1.json.02", output: "a_batch_1.json"))
        #expect(!AcceptedName.holds("a_batch_1.json.sha256", output: "a_batch_1.json"))
        #expect(!AcceptedName.holds("a_batch_11.json", output: "a_batch_1.json"))
        #expect(AcceptedName.ordered(["x.json.10", "x.json.2", "x.json"]) == ["x.json", "x.json.2", "x.json.10"])
    }
}
