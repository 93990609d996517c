import Testing
@testable import WatcherCore

/// An input aimed at batch a/1, whose current attempt is 1 and whose last pid is 101.
struct Probe: Sendable, CustomTestStringConvertible {
    var name: String
    var input: Input
    var testDescription: String { name }
}

let probes: [Probe] = [
    Probe(name: "outputWritten renamed", input: written(a1, renamed: true)),
    Probe(name: "outputWritten in place", input: written(a1, renamed: false)),
    Probe(name: "spawned #1", input: spawned(a1, 1)),
    Probe(name: "spawned stale #0", input: spawned(a1, 0)),
    Probe(name: "spawned future #2", input: spawned(a1, 2, pid: 102)),
    Probe(name: "spawnFailed #1", input: .spawnFailed(a1, attempt: 1, message: "x")),
    Probe(name: "spawnFailed #2", input: .spawnFailed(a1, attempt: 2, message: "x")),
    Probe(name: "agentExited ok with output", input: exited(a1, output: true)),
    Probe(name: "agentExited crash", input: exited(a1, status: "exit 1", success: false, output: false)),
    Probe(name: "agentExited other pid", input: exited(a1, pid: 999, output: true)),
    Probe(name: "validated valid #1", input: validated(a1, 1)),
    Probe(name: "validated invalid #1", input: validated(a1, 1, smInvalid)),
    Probe(name: "validated unparseable #1", input: validated(a1, 1, smUnparseable, unparseable: true)),
    Probe(name: "validated unreadable #1", input: validated(a1, 1, smUnparseable, checksum: nil)),
    Probe(name: "validated valid stale #0", input: validated(a1, 0)),
    Probe(name: "validated valid #2", input: validated(a1, 2)),
    Probe(name: "merged #1", input: merged(a1, 1)),
    Probe(name: "merged #2", input: merged(a1, 2)),
    Probe(name: "mergeConflict #1", input: .mergeConflict(a1, attempt: 1, report: smConflict)),
    Probe(name: "mergeConflict #2", input: .mergeConflict(a1, attempt: 2, report: smConflict)),
    Probe(name: "mainFileChanged #1", input: .mainFileChanged(a1, attempt: 1, message: "gone")),
    Probe(name: "mainFileChanged #2", input: .mainFileChanged(a1, attempt: 2, message: "gone")),
    Probe(name: "outputChanged #1", input: .outputChanged(a1, attempt: 1)),
    Probe(name: "outputChanged #2", input: .outputChanged(a1, attempt: 2)),
    Probe(name: "batchDone with output", input: .batchDone(a1, outputPath: smPath(a1))),
    Probe(name: "batchDone without output", input: .batchDone(a1, outputPath: nil)),
    Probe(name: "tick", input: .tick),
    Probe(name: "retry a/1", input: ctl(.retry, a1)),
    Probe(name: "skip a/1", input: ctl(.skip, a1)),
    Probe(name: "cancel a/1", input: ctl(.cancel, a1)),
]

/// Whether `input` is one the machine acts on for a batch in `state` that was put there by
/// replay (attempt 1, pid 101, no live agent, no live deadlines).
func fits(_ input: Input, _ state: BatchState) -> Bool {
    switch input {
    case .outputWritten:
        return ![.validating, .merging, .merged, .blocked, .skipped, .cancelled].contains(state)
    case .spawned(_, let attempt, _, _, _), .spawnFailed(_, let attempt, _, _):
        return state == .spawning && attempt == 1
    case .validatorFailed(_, let attempt, _):
        return state == .validating && attempt == 1
    case .agentExited:
        return false // after replay no agent is alive
    case .validated(_, let attempt, _, _, _):
        return state == .validating && attempt == 1
    case .merged(_, let attempt, _, _, _), .mergeConflict(_, let attempt, _), .outputChanged(_, let attempt),
         .mainFileChanged(_, let attempt, _):
        return state == .merging && attempt == 1
    case .batchDone(_, let path):
        return state == .running && path != nil
    case .tick, .mainFileRebuilt:
        return false
    case .control(let c):
        switch c.verb {
        case .retry: return [.failed, .blocked, .cancelled, .skipped].contains(state)
        case .skip: return !state.isActive && state != .merged && state != .skipped
        case .cancel: return !state.isTerminal
        case .pause, .resume, .drain: return true
        }
    }
}

struct IllegalCombo: Sendable, CustomTestStringConvertible {
    var state: BatchState
    var probe: Probe
    var testDescription: String { "\(state.rawValue) + \(probe.name)" }
}

let illegalCombos: [IllegalCombo] = BatchState.allCases.flatMap { s in
    probes.filter { !fits($0.input, s) }.map { IllegalCombo(state: s, probe: $0) }
}

/// A watcher whose run `r` is paused (so the scheduler stays still) with a/1 put into `state`
/// by replaying records, as recovery would.
func replayed(into state: BatchState) -> WatcherState {
    var w = WatcherState()
    _ = w.add(smPlan(phases: ["a", "b", "c"], batches: 2, concurrency: 2))
    w.apply(Event(event: EventName.controlApplied, run: "r", details: [.init("command", .string("pause"))]))
    w.apply(Event(event: EventName.transition, run: "r", phase: "a", batch: 1, attempt: 1, from: "pending",
                  to: "spawning"))
    w.apply(Event(event: EventName.transition, run: "r", phase: "a", batch: 1, attempt: 1, from: "spawning",
                  to: state.rawValue, reason: "test", details: [.init("pid", .int(101)), .init("checksum", .string("c1"))]))
    return w
}

/// Effects that would act on a/1 (anything but rejecting or settling a stray file).
func actions(on id: BatchID, _ effects: [Effect]) -> [Effect] {
    effects.filter {
        switch $0 {
        case .log(let e): return e.batchID == id && e.event != EventName.controlRejected
        case .spawn(let b, _, _), .validate(let b, _, _), .merge(let b, _, _, _), .signal(let b, _, _), .archive(let b, _, _, _):
            return b == id
        case .settleDuplicate, .rejectFile, .runCompleted, .rebuildMainFile: return false
        }
    }
}

@Suite struct WatcherStateIllegalInputTests {
    @Test func everyStateCanBeReachedByReplay() {
        for s in BatchState.allCases {
            let w = replayed(into: s)
            #expect(w.batch(a1)?.state == s)
            #expect(w.batch(a1)?.attempt == 1)
            #expect(w.batch(a1)?.pid == 101)
            #expect(w.batch(a1)?.agentAlive == false)
            #expect(w.paused == ["r"])
        }
        #expect(illegalCombos.count > 200)
    }

    @Test(arguments: illegalCombos)
    func inputThatDoesNotFitChangesNothing(_ combo: IllegalCombo) {
        var w = replayed(into: combo.state)
        let before = w
        let effects = w.handle(combo.probe.input, now: smAt(5000))
        #expect(actions(on: a1, effects).map(smDescribe) == [])
        #expect(smTransitions(effects).map { smDescribe(.log($0)) } == [], "no batch moves while the run is paused")
        #expect(w.batch(a1) == before.batch(a1))
        #expect(w.batches == before.batches)
        #expect(w.paused == before.paused)
        if case .control = combo.probe.input {
            #expect(smEvents(effects).map(\.event) == [EventName.controlRejected])
            #expect(smEvents(effects).first?.reason == "batch is \(combo.state.rawValue)")
        }
        if case .outputWritten = combo.probe.input {
            switch combo.state {
            case .merged: #expect(smDescribe(effects) == ["duplicate a/1 a_batch_1.json c1"])
            case .blocked, .skipped, .cancelled:
                #expect(smDescribe(effects) == ["reject r a_batch_1.json: batch r/a/1 is \(combo.state.rawValue)"])
            default: #expect(effects.isEmpty)
            }
        }
    }

    /// The same, with the run not paused: the scheduler may start other batches, but a/1 does
    /// not move unless the scheduler itself starts it.
    @Test(arguments: illegalCombos)
    func inputThatDoesNotFitMovesTheBatchOnlyThroughTheScheduler(_ combo: IllegalCombo) {
        var w = replayed(into: combo.state)
        w.apply(Event(event: EventName.controlApplied, run: "r", details: [.init("command", .string("resume"))]))
        let effects = w.handle(combo.probe.input, now: smAt(5000))
        let moves = smTransitions(effects, of: a1)
        if combo.state == .pending || combo.state == .retryWait {
            // Ready (no dependency, no backoff after replay): the scheduler may start it.
            #expect(moves.allSatisfy { $0.to == "spawning" && $0.attempt == 2 && $0.reason == nil })
        } else {
            #expect(moves.map { smDescribe(.log($0)) } == [])
        }
    }

    /// Inputs that arrive late or twice against live (not replayed) batches.
    @Test func staleAndDuplicateInputsAgainstLiveBatchesAreIgnored() {
        var m = Machine(smPlan(batches: 1, concurrency: 1))
        m.start()
        m.send(spawned(a1), at: 1000)
        // A second spawned for the same attempt, and one for an attempt not started.
        #expect(m.send(spawned(a1, 1, pid: 555), at: 1000.1).isEmpty)
        #expect(m.send(spawned(a1, 2, pid: 556), at: 1000.1).isEmpty)
        #expect(m.state.batch(a1)?.pid == 101)
        // An exit of some other process.
        #expect(m.send(exited(a1, pid: 555, output: false), at: 1000.2).isEmpty)
        #expect(m.stateOf(a1) == .running)
        // A validation answer for a file nobody asked to validate.
        #expect(m.send(validated(a1, 1), at: 1000.3).isEmpty)
        #expect(m.send(merged(a1, 1), at: 1000.3).isEmpty)
        m.send(exited(a1, output: true), at: 1001)
        // The agent's exit, reported twice.
        #expect(m.send(exited(a1, output: true), at: 1001.1).isEmpty)
        // The answer of an earlier attempt's validation.
        #expect(m.send(validated(a1, 0), at: 1001.2).isEmpty)
        #expect(m.stateOf(a1) == .validating)
        m.send(validated(a1, 1), at: 1002)
        // A second validation answer while merging.
        #expect(m.send(validated(a1, 1, smInvalid), at: 1002.1).isEmpty)
        #expect(m.send(.mergeConflict(a1, attempt: 2, report: smConflict), at: 1002.2).isEmpty)
        m.send(merged(a1, 1), at: 1003)
        // The merge answered twice.
        #expect(m.send(merged(a1, 1), at: 1003.1).isEmpty)
        #expect(m.send(.outputChanged(a1, attempt: 1), at: 1003.1).isEmpty)
        #expect(m.stateOf(a1) == .merged)
    }

    @Test func unknownBatchesInInputsDoNotTrap() {
        var m = Machine(smPlan())
        m.start()
        let ghost = sm("zz", 42, run: "ghost")
        let inputs: [Input] = [
            spawned(ghost), .spawnFailed(ghost, attempt: 1, message: "x"), exited(ghost, output: true),
            validated(ghost), merged(ghost), .mergeConflict(ghost, attempt: 1, report: smConflict),
            .outputChanged(ghost, attempt: 1),
        ]
        let before = m.state
        for input in inputs {
            #expect(m.send(input, at: 1001).isEmpty)
        }
        #expect(m.state == before)
    }
}
