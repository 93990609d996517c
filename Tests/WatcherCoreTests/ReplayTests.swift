import Testing
@testable import WatcherCore

/// How a scripted fake agent behaves for one attempt.
enum AgentScript: Sendable, CaseIterable {
    /// Writes its output in place, then exits 0.
    case good
    /// Renames its output into place and keeps running until stopped.
    case lingers
    /// Writes an output that fails validation, exits 0.
    case invalid
    /// Exits 0 without output.
    case nothing
    /// Exits 1 without output.
    case crash
    /// Never exits until SIGTERM.
    case hang
    /// Ignores SIGTERM; only SIGKILL stops it.
    case hangHard
    /// A valid output whose merge conflicts.
    case conflict
    /// Renames a half-written file in (unparseable), then writes it whole and exits.
    case incomplete
}

/// A deterministic stand-in for the daemon: carries out effects, answers validations and
/// merges, plays the agents' scripts on a virtual clock and ticks at each deadline.
struct FakeShell {
    struct Timed {
        var at: Instant
        var seq: Int
        var pid: Int32?
        var input: Input
    }

    struct Agent {
        var id: BatchID
        var attempt: Int
        var script: AgentScript
        var dying = false
        var dead = false
    }

    var state = WatcherState()
    var plans: [RunPlan]
    var now = smAt(1000)
    var immediate: [Input] = []
    var timed: [Timed] = []
    var seq = 0
    var log: [Event] = []
    var other: [Effect] = []
    var scripts: [String: AgentScript]
    var defaultScript: AgentScript = .good
    var agents: [Int32: Agent] = [:]
    var nextPid: Int32 = 100
    var validations: [String: Int] = [:]
    var steps = 0

    init(_ plans: [RunPlan], scripts: [String: AgentScript] = [:]) {
        self.plans = plans
        self.scripts = scripts
        for p in plans { carry(state.add(p)) }
        immediate.append(.tick) // the daemon's first pass
    }

    static func key(_ id: BatchID, _ attempt: Int) -> String { "\(smName(id))#\(attempt)" }

    mutating func at(_ offset: Double, pid: Int32? = nil, _ input: Input) {
        seq += 1
        timed.append(Timed(at: Instant(nanoseconds: now.nanoseconds + UInt64(offset * 1e9)), seq: seq, pid: pid, input: input))
    }

    /// A control command `seconds` after the clock's zero.
    mutating func control(at seconds: Double, _ c: ControlCommand) {
        seq += 1
        timed.append(Timed(at: smAt(seconds), seq: seq, pid: nil, input: .control(c)))
    }

    mutating func feed(_ input: Input) {
        steps += 1
        carry(state.handle(input, now: now))
    }

    mutating func carry(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .log(let e):
                log.append(e)
            case .spawn(let id, let attempt, _):
                let script = scripts[Self.key(id, attempt)] ?? defaultScript
                let pid = nextPid
                nextPid += 1
                agents[pid] = Agent(id: id, attempt: attempt, script: script)
                immediate.append(.spawned(id, attempt: attempt, pid: pid))
                let path = smPath(id)
                func exit(_ after: Double, _ status: String, _ ok: Bool, _ output: Bool) {
                    at(after, pid: pid, .agentExited(id, pid: pid, status: status, success: ok, outputPath: output ? path : nil))
                }
                switch script {
                case .good, .invalid, .conflict:
                    at(0.5, pid: pid, .outputWritten(id, path: path, renamed: false))
                    exit(0.6, "exit 0", true, true)
                case .lingers:
                    at(0.5, pid: pid, .outputWritten(id, path: path, renamed: true))
                case .nothing: exit(0.4, "exit 0", true, false)
                case .crash: exit(0.3, "exit 1", false, false)
                case .hang, .hangHard: break
                case .incomplete:
                    at(0.3, pid: pid, .outputWritten(id, path: path, renamed: true))
                    at(1.0, pid: pid, .outputWritten(id, path: path, renamed: false))
                    exit(1.1, "exit 0", true, true)
                }
            case .validate(let id, let attempt, _):
                let k = Self.key(id, attempt)
                validations[k, default: 0] += 1
                let script = scripts[k] ?? defaultScript
                let sum = "sum-\(id.run)-\(id.phase)-\(id.index)-\(attempt)"
                switch script {
                case .invalid:
                    immediate.append(.validated(id, attempt: attempt, report: smInvalid, checksum: sum, unparseable: false))
                case .incomplete where validations[k] == 1:
                    immediate.append(.validated(id, attempt: attempt, report: smUnparseable, checksum: sum + "-half", unparseable: true))
                default:
                    immediate.append(.validated(id, attempt: attempt, report: .passed, checksum: sum, unparseable: false))
                }
            case .merge(let id, let attempt, _, let checksum):
                if (scripts[Self.key(id, attempt)] ?? defaultScript) == .conflict {
                    immediate.append(.mergeConflict(id, attempt: attempt, report: smConflict))
                } else {
                    immediate.append(.merged(id, attempt: attempt, checksum: checksum, items: 2, alreadyMerged: false))
                }
            case .signal(let id, let pid, let signal):
                guard var agent = agents[pid], !agent.dead, !agent.dying else { continue }
                if signal == .kill || agent.script != .hangHard {
                    agent.dying = true
                    agents[pid] = agent
                    at(0.2, pid: pid, .agentExited(id, pid: pid, status: "killed by \(signal.rawValue)", success: false, outputPath: nil))
                }
            case .rebuildMainFile(let c, let batches):
                immediate.append(.mainFileRebuilt(c, batches: batches.count, refusal: nil))
            case .archive, .settleDuplicate, .rejectFile, .runCompleted:
                other.append(effect)
            }
        }
    }

    /// Runs until nothing is left to happen. Returns false if it had to stop at `limit` steps.
    @discardableResult
    mutating func run(limit: Int = 5000) -> Bool {
        while steps < limit {
            if !immediate.isEmpty {
                feed(immediate.removeFirst())
                continue
            }
            timed.sort { ($0.at, $0.seq) < ($1.at, $1.seq) }
            let deadline = state.nextDeadline()
            if let next = timed.first, deadline.map({ next.at <= $0 }) ?? true {
                timed.removeFirst()
                now = max(now, next.at)
                if let pid = next.pid, var agent = agents[pid] {
                    if agent.dead { continue }
                    if case .agentExited = next.input { agent.dead = true; agents[pid] = agent }
                    else if agent.dying { continue }
                }
                feed(next.input)
            } else if let deadline {
                now = max(now, deadline)
                feed(.tick)
            } else {
                return true
            }
        }
        return false
    }
}

/// The logged part of a batch, which replay must rebuild exactly.
struct LoggedBatch: Equatable, CustomStringConvertible {
    var state: BatchState
    var attempt: Int
    var attemptsAllowed: Int
    var pid: Int32?
    var mergedChecksum: String?
    var lastReason: String?
    var lastErrorCount: Int?
    var fingerprints: [String]
    init(_ b: Batch) {
        state = b.state; attempt = b.attempt; attemptsAllowed = b.attemptsAllowed; pid = b.pid
        mergedChecksum = b.mergedChecksum; lastReason = b.lastReason; lastErrorCount = b.lastErrorCount
        fingerprints = b.fingerprints
    }
    var description: String {
        "\(state.rawValue) #\(attempt)/\(attemptsAllowed) pid=\(pid.map(String.init) ?? "-") sum=\(mergedChecksum ?? "-") reason=\(lastReason ?? "-")"
    }
}

func logged(_ w: WatcherState) -> [BatchID: LoggedBatch] { w.batches.mapValues(LoggedBatch.init) }

/// A fresh watcher with the plans added and `events` folded in.
func replay(_ plans: [RunPlan], _ events: [Event]) -> WatcherState {
    var w = WatcherState()
    for p in plans { _ = w.add(p) }
    for e in events { w.apply(e) }
    return w
}

/// The same, through the text of the log as the daemon replays it: every event encoded as a
/// line and decoded again, the scheduling index built once at the end.
func replayThroughText(_ plans: [RunPlan], _ events: [Event]) throws -> WatcherState {
    var w = WatcherState()
    w.beginReplay()
    for p in plans { _ = w.add(p) }
    for (i, e) in events.enumerated() {
        var line = EventRecord(seq: UInt64(i + 1), ts: "2026-11-21T08:00:00.000000Z", event: e).encoded()
        #expect(line.removeLast() == 0x0A)
        #expect(EventRecord.checksumMatches(line[...]))
        w.apply(try EventRecord.decode(line[...]).event)
    }
    w.endReplay()
    return w
}

func expectReplayAgrees(_ shell: FakeShell, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let live = logged(shell.state)
    let folded = replay(shell.plans, shell.log)
    #expect(logged(folded) == live, sourceLocation: sourceLocation)
    #expect(folded.paused == shell.state.paused, sourceLocation: sourceLocation)
    #expect(folded.completed == shell.state.completed, sourceLocation: sourceLocation)
    #expect(folded.drains == shell.state.drains, sourceLocation: sourceLocation)
    let text = try replayThroughText(shell.plans, shell.log)
    #expect(logged(text) == live, sourceLocation: sourceLocation)
    #expect(text.completed == shell.state.completed, sourceLocation: sourceLocation)
    // The index built once after the replay schedules as the one kept up to date per record.
    var perRecord = folded, once = text
    #expect(smDescribe(once.handle(.tick, now: shell.now)) == smDescribe(perRecord.handle(.tick, now: shell.now)),
            sourceLocation: sourceLocation)
    #expect(once.nextDeadline() == perRecord.nextDeadline(), sourceLocation: sourceLocation)
    for (id, b) in live.sorted(by: { $0.key < $1.key }) where folded.batch(id).map(LoggedBatch.init) != b {
        Issue.record("\(id): live \(b), replayed \(folded.batch(id).map { LoggedBatch($0).description } ?? "nil")",
                     sourceLocation: sourceLocation)
    }
}

/// A small deterministic generator for the randomised scenarios.
struct TestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

@Suite struct ReplayTests {
    static let plan = smPlan(phases: ["a", "b", "c"], batches: 3, concurrency: 2, maxAttempts: 2, timeout: 30, grace: 2)

    @Test func scriptedScenarioWithRetriesFailuresAndMergesReplaysToTheSameState() throws {
        var shell = FakeShell([Self.plan], scripts: [
            "a/1#1": .invalid, "a/1#2": .good,
            "a/2#1": .nothing, "a/2#2": .crash,
            "b/1#1": .hang, "b/1#2": .incomplete,
            "b/3#1": .conflict, "b/3#2": .lingers,
            "c/1#1": .hangHard,
            "a/2#3": .good,
        ])
        let settled1 = shell.run()
        #expect(settled1)
        let s = shell.state
        #expect(s.batch(a1)?.state == .merged && s.batch(a1)?.attempt == 2)
        #expect(s.batch(a2)?.state == .failed && s.batch(a2)?.attempt == 2 && s.batch(a2)?.lastReason == "agent_crashed")
        #expect(s.batch(b2)?.state == .blocked && s.batch(sm("c", 2))?.state == .blocked)
        #expect(s.batch(b1)?.state == .merged && s.batch(b1)?.attempt == 2)
        #expect(s.batch(sm("b", 3))?.state == .merged && s.batch(sm("b", 3))?.mergedChecksum == "sum-r-b-3-2")
        #expect(s.batch(c1)?.state == .merged && s.batch(c1)?.attempt == 2)
        #expect(s.batch(sm("c", 3))?.state == .merged)
        #expect(s.completed == ["r"])
        #expect(s.batches.values.allSatisfy { !$0.agentAlive })
        let reasons = smTransitions(shell.log.map(Effect.log)).compactMap(\.reason)
        for r in ["validation_failed", "no_output", "agent_crashed", "timeout", "output_incomplete", "merge_conflict"] {
            #expect(reasons.contains(r), "the scenario covers \(r)")
        }
        #expect(shell.log.contains { $0.event == EventName.agentSignalled && $0.string("signal") == "SIGKILL" })
        try expectReplayAgrees(shell)

        // A retry of the failed batch after completion: its blocked dependants follow it.
        shell.control(at: smSeconds(shell.now) + 1, ControlCommand(verb: .retry, run: "r", phase: "a", batch: 2))
        let settled2 = shell.run()
        #expect(settled2)
        #expect(shell.state.batch(a2)?.state == .merged && shell.state.batch(a2)?.attempt == 3)
        #expect(shell.state.batch(sm("c", 2))?.state == .merged)
        #expect(shell.state.completed == ["r"])
        #expect(shell.log.filter { $0.event == EventName.runCompleted }.count == 2)
        try expectReplayAgrees(shell)
    }

    @Test func controlsReplayToTheSameState() throws {
        var shell = FakeShell([Self.plan], scripts: ["b/1#1": .crash, "b/1#2": .crash, "b/3#1": .hang])
        shell.control(at: 1000.1, ControlCommand(verb: .pause, run: "r"))
        shell.control(at: 1000.2, ControlCommand(verb: .skip, run: "r", phase: "c", batch: 3))
        shell.control(at: 1005, ControlCommand(verb: .resume, run: "r"))
        shell.control(at: 1007, ControlCommand(verb: .cancel, run: "r", phase: "b", batch: 3))
        shell.control(at: 1008, ControlCommand(verb: .pause, run: "r"))
        let settled3 = shell.run()
        #expect(settled3)
        let s = shell.state
        #expect(s.paused == ["r"])
        #expect(s.batch(sm("a", 3))?.state == .merged)
        #expect(s.batch(sm("b", 3))?.state == .cancelled, "it ran, then was cancelled")
        #expect(s.batch(sm("c", 3))?.state == .skipped, "skipped before its dependency was cancelled")
        #expect(s.batch(b1)?.state == .failed && s.batch(b1)?.attempt == 2)
        #expect(s.batch(c1)?.state == .blocked)
        #expect(s.batch(sm("c", 2))?.state == .merged)
        #expect(s.completed == ["r"])
        #expect(shell.log.contains { $0.event == EventName.agentSignalled && $0.reason == "cancelled" })
        try expectReplayAgrees(shell)
        shell.control(at: 1100, ControlCommand(verb: .resume, run: "r"))
        let settled4 = shell.run()
        #expect(settled4)
        #expect(shell.state.paused.isEmpty)
        try expectReplayAgrees(shell)
        // Both of b/1's attempts failed alike: a drain holds it back unless forced.
        shell.control(at: 1200, ControlCommand(verb: .drain, run: "r"))
        let settled5 = shell.run()
        #expect(settled5)
        #expect(shell.state.batch(b1)?.state == .failed)
        shell.control(at: 1300, ControlCommand(verb: .drain, run: "r", force: true))
        let settled6 = shell.run()
        #expect(settled6)
        #expect(shell.state.batch(b1)?.state == .merged && shell.state.batch(b1)?.attempt == 3)
        #expect(shell.state.batch(c1)?.state == .merged)
        #expect(shell.state.completed == ["r"])
        try expectReplayAgrees(shell)
    }

    @Test(arguments: 1...100)
    func randomScenariosReplayToTheSameStateAndAlwaysComplete(seed: Int) throws {
        var rng = TestRandom(state: UInt64(seed) &* 7919)
        let plans = [
            smPlan(phases: ["a", "b", "c"], batches: 3, concurrency: 1 + rng.below(3), maxAttempts: 1 + rng.below(3),
                   timeout: 20, grace: 1),
            smPlan(run: "s", phases: ["x", "y"], batches: 2, concurrency: 2, maxAttempts: 2, timeout: 20, grace: 1),
        ]
        var scripts: [String: AgentScript] = [:]
        for p in plans {
            for id in p.batchIDs {
                for attempt in 1...6 {
                    // Good two times out of three, else any flaw.
                    let pick = rng.below(AgentScript.allCases.count * 2)
                    scripts[FakeShell.key(id, attempt)] = pick < AgentScript.allCases.count ? AgentScript.allCases[pick] : .good
                }
            }
        }
        var shell = FakeShell(plans, scripts: scripts)
        var t = 1000.0
        for _ in 0..<rng.below(9) {
            t += Double(rng.below(12)) / 4
            let plan = plans[rng.below(plans.count)]
            let ids = plan.batchIDs
            let id = ids[rng.below(ids.count)]
            switch rng.below(6) {
            case 0:
                shell.control(at: t, ControlCommand(verb: .pause, run: plan.run))
                shell.control(at: t + Double(rng.below(20)), ControlCommand(verb: .resume, run: plan.run))
            case 1: shell.control(at: t, ControlCommand(verb: .skip, run: plan.run, phase: id.phase, batch: id.index))
            case 2: shell.control(at: t, ControlCommand(verb: .cancel, run: plan.run, phase: id.phase, batch: id.index))
            case 3: shell.control(at: t, ControlCommand(verb: .retry, run: plan.run, phase: id.phase, batch: id.index))
            case 4: shell.control(at: t, ControlCommand(verb: .drain, run: plan.run))
            default: shell.control(at: t, ControlCommand(verb: .cancel, run: plan.run))
            }
        }
        let settled = shell.run()
        #expect(settled, "the scenario settles")
        #expect(shell.state.completed == ["r", "s"], "every run completes")
        for (id, b) in shell.state.batches.sorted(by: { $0.key < $1.key }) where !b.state.isTerminal || b.agentAlive {
            let history = shell.log.filter { $0.batchID == id }.map { smDescribe(.log($0)) }.joined(separator: " | ")
            Issue.record(Comment(rawValue: "\(id) left \(b.state.rawValue) #\(b.attempt), agent alive: \(b.agentAlive): \(history)"))
        }
        #expect({ var w = shell.state; return w.nextDeadline() == nil }())
        try expectReplayAgrees(shell)
        // run.completed is logged once per completion, never twice in a row for a run.
        var lastCompleted: [String: Bool] = [:]
        for e in shell.log {
            guard let run = e.run else { continue }
            if e.event == EventName.runCompleted {
                #expect(lastCompleted[run] != true, "run.completed twice for \(run) with no change in between")
                lastCompleted[run] = true
            } else if e.event == EventName.transition, let to = e.to, !(BatchState(rawValue: to)?.isTerminal ?? true) {
                lastCompleted[run] = false
            }
        }
    }

    // MARK: recover(now:outputPath:)

    /// Puts a batch into a state by one logged transition.
    static func put(_ w: inout WatcherState, _ id: BatchID, _ state: BatchState, attempt: Int = 1, pid: Int32? = nil,
                    checksum: String? = nil) {
        var details: [Event.Detail] = []
        if let pid { details.append(.init("pid", .int(Int(pid)))) }
        if let checksum { details.append(.init("checksum", .string(checksum))) }
        w.apply(Event(event: EventName.transition, run: id.run, phase: id.phase, batch: id.index, attempt: attempt,
                      from: "pending", to: state.rawValue, details: details))
    }

    static func interrupted() -> WatcherState {
        var w = WatcherState()
        _ = w.add(smPlan(phases: ["a", "b"], batches: 4, concurrency: 3, maxAttempts: 3))
        put(&w, a1, .merged, checksum: "m1")
        put(&w, b1, .merging, checksum: "m2")
        put(&w, a2, .merged, checksum: "m3")
        put(&w, b2, .validating)
        put(&w, sm("a", 3), .running, pid: 103)
        put(&w, sm("a", 4), .spawning, attempt: 3)
        return w
    }

    @Test func recoverSettlesEveryBatchThatWasInFlight() {
        var w = Self.interrupted()
        #expect(w.agentsInFlight().map { "\(smName($0.0)):\($0.1)" } == ["a/3:103"])
        let withOutput: Set<BatchID> = [b1, sm("a", 3)]
        let effects = w.recover(now: smAt(2000)) { withOutput.contains($0) ? smPath($0) : nil }
        #expect(smDescribe(effects) == [
            "b/1 merging>validating #1 watcher_restart", "validate b/1 #1 b_batch_1.json",
            "b/2 validating>retry_wait #1 watcher_restart errors=1 retry_in_ms=1000",
            "a/3 running>validating #1 watcher_restart", "validate a/3 #1 a_batch_3.json",
            "a/4 spawning>failed #3 watcher_restart errors=1",
            "b/4 pending>blocked #0 dependency_failed dependency=a/4",
        ])
        #expect(w.batches.values.allSatisfy { !$0.agentAlive })
        #expect(w.agentsInFlight().isEmpty)
        #expect(w.nextDeadline().map(smSeconds) == 2001)
        // The backoff passes: b/2 tries again with the restart as its feedback.
        let tick = w.handle(.tick, now: smAt(2001))
        #expect(smDescribe(tick) == ["b/2 retry_wait>spawning #2", "spawn b/2 #2 feedback=1"])
        // No agent is alive to finish a half-written file: unparseable now is a failure.
        let v = w.handle(.validated(sm("a", 3), attempt: 1, report: smUnparseable, checksum: "x", unparseable: true),
                         now: smAt(2002))
        #expect(smDescribe(v) == [
            "a/3 validating>retry_wait #1 validation_failed errors=1 checksum=x retry_in_ms=1000",
            "archive a/3 #1 a_batch_3.json rejected errors=1",
        ])
        // And the re-validated merging batch merges (idempotently) as before.
        _ = w.handle(.validated(b1, attempt: 1, report: .passed, checksum: "m2", unparseable: false), now: smAt(2003))
        let m = w.handle(.merged(b1, attempt: 1, checksum: "m2", items: 2, alreadyMerged: true), now: smAt(2004))
        #expect(smDescribe(m).first == "b/1 merging>merged #1 checksum=m2 items=2 already_merged=true")
    }

    @Test func recoverWithNoOutputsFailsTheAttemptsInFlight() {
        var w = Self.interrupted()
        let effects = w.recover(now: smAt(2000)) { _ in nil }
        #expect(smDescribe(effects) == [
            "b/1 merging>retry_wait #1 watcher_restart errors=1 retry_in_ms=1000",
            "b/2 validating>retry_wait #1 watcher_restart errors=1 retry_in_ms=1000",
            "a/3 running>retry_wait #1 watcher_restart errors=1 retry_in_ms=1000",
            "a/4 spawning>failed #3 watcher_restart errors=1",
            "b/4 pending>blocked #0 dependency_failed dependency=a/4",
        ])
        #expect(w.batch(b1)?.lastReport?.errors.first?.type == "no_output")
        #expect(w.batch(sm("a", 3))?.lastReport?.errors.first?.type == "watcher_restart")
    }

    @Test func recoverLeavesSettledAndWaitingBatchesAloneAndIsIdempotent() {
        var w = Self.interrupted()
        _ = w.recover(now: smAt(2000)) { _ in nil }
        let after = w
        // A second recovery finds nothing in flight.
        let again = w.recover(now: smAt(2000)) { _ in nil }
        #expect(smTransitions(again).isEmpty)
        #expect(w == after)
        #expect(w.batch(a1)?.state == .merged && w.batch(a1)?.mergedChecksum == "m1")
    }

    @Test func recoveryEffectsReplayToTheRecoveredState() throws {
        var w = Self.interrupted()
        let plan = smPlan(phases: ["a", "b"], batches: 4, concurrency: 3, maxAttempts: 3)
        var events: [Event] = []
        for id in plan.batchIDs {
            guard let b = w.batch(id), b.state != .pending else { continue }
            var details: [Event.Detail] = []
            if let pid = b.pid { details.append(.init("pid", .int(Int(pid)))) }
            if let c = b.mergedChecksum { details.append(.init("checksum", .string(c))) }
            if b.state == .merging { details.append(.init("checksum", .string("m2"))) }
            events.append(Event(event: EventName.transition, run: "r", phase: id.phase, batch: id.index, attempt: b.attempt,
                                from: "pending", to: b.state.rawValue, details: details))
        }
        let effects = w.recover(now: smAt(2000)) { $0 == b1 ? smPath($0) : nil }
        events += smEvents(effects)
        let folded = replay([plan], events)
        #expect(logged(folded) == logged(w))
    }
}
