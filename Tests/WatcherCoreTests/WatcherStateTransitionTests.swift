import Testing
@testable import WatcherCore

// MARK: - Harness shared by the state-machine tests (WatcherState*, Scheduler, Replay)

/// Batch `phase/index` of run `run` ("r" unless told).
func sm(_ phase: String, _ index: Int, run: String = "r") -> BatchID {
    BatchID(run: run, phase: phase, index: index)
}

/// Where the shell would say an agent wrote its output.
func smPath(_ id: BatchID) -> String { "/mb/\(id.run)/outbox/\(id.outputFileName)" }

/// An instant `seconds` after the clock's zero, to the microsecond.
func smAt(_ seconds: Double) -> Instant {
    Instant(nanoseconds: UInt64((seconds * 1_000_000).rounded()) * 1_000)
}

func smSeconds(_ i: Instant) -> Double { Double(i.nanoseconds) / 1e9 }

/// A small plan: `batches` batches of 2 items per phase, backoff 1 s doubling.
func smPlan(run: String = "r", phases: [String] = ["a", "b"], batches: Int = 2, concurrency: Int = 1,
            maxAttempts: Int = 3, timeout: Double = 600, settleMilliseconds: Int = 200,
            grace: Double = 5, breaker: Int = 0) -> RunPlan {
    RunPlan(run: run, phases: phases.map { RunPlan.Phase(id: $0, maxAttempts: maxAttempts, timeoutSeconds: timeout) },
            itemCount: batches * 2, batchSize: 2, concurrency: concurrency,
            settleMilliseconds: settleMilliseconds, killGraceSeconds: grace,
            backoff: .init(initialSeconds: 1, multiplier: 2, maxSeconds: 60),
            transientBackoff: .init(initialSeconds: 5, multiplier: 2, maxSeconds: 40), breakerThreshold: breaker)
}

let smInvalid = ValidationReport.from(errors: [
    ValidationError(type: "missing_item", item: "S0001", message: "S0001 is missing", suggestion: "add it"),
    ValidationError(type: "invalid_item", item: "S0002", message: "S0002 has no target"),
])
let smUnparseable = ValidationReport.from(errors: [
    ValidationError(type: "invalid_json", message: "line 1, column 9: unexpected end of input"),
])
let smConflict = ValidationReport.from(errors: [
    ValidationError(type: "conflict", item: "S0001", message: "S0001 is already merged with other content"),
])

func smName(_ id: BatchID) -> String { (id.run == "r" ? "" : id.run + ":") + "\(id.phase)/\(id.index)" }

func smFile(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }

func smValue(_ v: Event.Value) -> String {
    switch v {
    case .int(let i): return String(i)
    case .string(let s): return s
    case .bool(let b): return String(b)
    case .double(let d): return String(d)
    case .strings(let l): return l.joined(separator: ",")
    }
}

/// One line per effect, compact enough to write expectations by hand:
/// `a/1 validating>retry_wait #1 validation_failed errors=2 retry_in_ms=1000`.
/// The long `message`, `failed_items` and `fingerprint` details are left out (checked on their own).
func smDescribe(_ effect: Effect) -> String {
    switch effect {
    case .log(let e):
        var s: String
        if e.event == EventName.transition, let id = e.batchID {
            s = "\(smName(id)) \(e.from ?? "?")>\(e.to ?? "?") #\(e.attempt.map(String.init) ?? "-")"
        } else {
            s = e.event
            if let id = e.batchID { s += " " + smName(id) }
            if let a = e.attempt { s += " #\(a)" }
        }
        if let r = e.reason { s += " " + r }
        for d in e.details where !["message", "failed_items", "fingerprint", "class"].contains(d.key) {
            s += " \(d.key)=\(smValue(d.value))"
        }
        return s
    case .spawn(let id, let attempt, let feedback):
        return "spawn \(smName(id)) #\(attempt)" + (feedback.map { " feedback=\($0.errors.count)" } ?? "")
    case .validate(let id, let attempt, let path):
        return "validate \(smName(id)) #\(attempt) \(smFile(path))"
    case .merge(let id, let attempt, let path, let checksum):
        return "merge \(smName(id)) #\(attempt) \(smFile(path)) \(checksum)"
    case .signal(let id, let pid, let signal):
        return "signal \(smName(id)) pid=\(pid) \(signal.rawValue)"
    case .archive(let id, let attempt, let path, let destination):
        switch destination {
        case .accepted(let checksum): return "archive \(smName(id)) #\(attempt) \(smFile(path)) accepted \(checksum)"
        case .rejected(let r): return "archive \(smName(id)) #\(attempt) \(smFile(path)) rejected errors=\(r.errors.count)"
        }
    case .settleDuplicate(let id, let path, let checksum):
        return "duplicate \(smName(id)) \(smFile(path)) \(checksum ?? "nil")"
    case .rejectFile(let run, let path, let reason):
        return "reject \(run) \(smFile(path)): \(reason)"
    case .runCompleted(let run):
        return "completed \(run)"
    case .rebuildMainFile(let c, let batches):
        return "rebuild \(c.run)/\(c.phase ?? "?") " + batches.map { "\(smName($0.id))=\($0.checksum)" }.joined(separator: ",")
    }
}

func smDescribe(_ effects: [Effect]) -> [String] { effects.map(smDescribe) }

func smEvents(_ effects: [Effect]) -> [Event] {
    effects.compactMap { if case .log(let e) = $0 { return e }; return nil }
}

func smTransitions(_ effects: [Effect], of id: BatchID? = nil) -> [Event] {
    smEvents(effects).filter { $0.event == EventName.transition && (id == nil || $0.batchID == id) }
}

/// A watcher with plans added, fed inputs at explicit instants; keeps every effect.
struct Machine {
    var state = WatcherState()
    var all: [Effect] = []

    init(_ plans: RunPlan...) {
        for p in plans { all += state.add(p) }
    }

    /// The first tick: the scheduler starts what may start.
    @discardableResult
    mutating func start(at t: Double = 1000) -> [Effect] { send(.tick, at: t) }

    @discardableResult
    mutating func send(_ input: Input, at t: Double) -> [Effect] {
        let effects = state.handle(input, now: smAt(t))
        all += effects
        return effects
    }

    func stateOf(_ id: BatchID) -> BatchState? { state.batch(id)?.state }
    var deadline: Double? { mutating get { state.nextDeadline().map(smSeconds) } }
}

// MARK: - Table of legal transitions

/// One input at one instant, and (when given) exactly the effects it must return.
struct Step: Sendable {
    var input: Input
    var at: Double
    var expect: [String]?
    /// nil: not checked; a negative number: no deadline at all.
    var deadline: Double?
}

func step(_ input: Input, at: Double, _ expect: [String]? = nil, deadline: Double? = nil) -> Step {
    Step(input: input, at: at, expect: expect, deadline: deadline)
}

let a1 = sm("a", 1), a2 = sm("a", 2), b1 = sm("b", 1), b2 = sm("b", 2), c1 = sm("c", 1)

func ctl(_ verb: ControlCommand.Verb, _ id: BatchID? = nil, run: String = "r") -> Input {
    .control(ControlCommand(verb: verb, run: run, phase: id?.phase, batch: id?.index))
}

func spawned(_ id: BatchID, _ attempt: Int = 1, pid: Int32 = 101) -> Input { .spawned(id, attempt: attempt, pid: pid) }
func exited(_ id: BatchID, pid: Int32 = 101, status: String = "exit 0", success: Bool = true, output: Bool) -> Input {
    .agentExited(id, pid: pid, status: status, success: success, outputPath: output ? smPath(id) : nil)
}
func written(_ id: BatchID, renamed: Bool) -> Input { .outputWritten(id, path: smPath(id), renamed: renamed) }
func validated(_ id: BatchID, _ attempt: Int = 1, _ report: ValidationReport = .passed, checksum: String? = "c1",
               unparseable: Bool = false) -> Input {
    .validated(id, attempt: attempt, report: report, checksum: checksum, unparseable: unparseable)
}
func merged(_ id: BatchID, _ attempt: Int = 1, checksum: String = "c1") -> Input {
    .merged(id, attempt: attempt, checksum: checksum, items: 2, alreadyMerged: false)
}

/// a/1 is running (pid 101) from 1000.
let toRunning = [step(spawned(a1), at: 1000)]
/// a/1 wrote its output and exited: validating, no agent.
let toValidatingExited = toRunning + [step(exited(a1, output: true), at: 1001)]
/// a/1 renamed its output into place and still runs: validating, agent alive.
let toValidatingAlive = toRunning + [step(written(a1, renamed: true), at: 1001)]
let toMerging = toValidatingExited + [step(validated(a1), at: 1002)]
let toMerged = toMerging + [step(merged(a1), at: 1003)]
/// maxAttempts 1: a/1 failed at once, b/1 blocked.
let toFailed = [step(spawned(a1), at: 1000), step(exited(a1, status: "exit 1", success: false, output: false), at: 1000)]

struct TransitionCase: Sendable, CustomTestStringConvertible {
    var name: String
    var plan: RunPlan = smPlan()
    var steps: [Step]
    var final: [BatchID: BatchState] = [:]
    var testDescription: String { name }
}

let transitionCases: [TransitionCase] = [
    TransitionCase(name: "spawning -> running on spawned", steps: [
        step(spawned(a1), at: 1000, ["a/1 spawning>running #1 pid=101"], deadline: 1600),
    ], final: [a1: .running, a2: .pending]),

    TransitionCase(name: "spawnFailed with attempts left -> retry_wait, next batch takes the slot", steps: [
        step(.spawnFailed(a1, attempt: 1, message: "no such file"), at: 1000, [
            "a/1 spawning>retry_wait #1 spawn_failed errors=1 attempt_used=false retry_in_ms=1000",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ], deadline: 1001),
    ], final: [a1: .retryWait, a2: .spawning]),

    TransitionCase(name: "spawnFailed uses no attempt: even on the last one the batch is tried again", plan: smPlan(maxAttempts: 1), steps: [
        step(.spawnFailed(a1, attempt: 1, message: "no such file"), at: 1000, [
            "a/1 spawning>retry_wait #1 spawn_failed errors=1 attempt_used=false retry_in_ms=1000",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
        step(.spawned(a2, attempt: 1, pid: 102), at: 1000.5),
        step(exited(a2, pid: 102, output: true), at: 1000.6),
        step(validated(a2), at: 1000.7),
        step(.tick, at: 1001.2, []),
        step(merged(a2), at: 1001.5, [
            "a/2 merging>merged #1 checksum=c1 items=2 already_merged=false", "archive a/2 #1 a_batch_2.json accepted c1",
            "a/1 retry_wait>spawning #1", "spawn a/1 #1",
        ]),
    ], final: [a1: .spawning, b1: .pending]),

    TransitionCase(name: "an agent crash on the last attempt -> failed, dependant blocked", plan: smPlan(maxAttempts: 1), steps: toRunning + [
        step(exited(a1, status: "exit 1", success: false, output: false), at: 1000, [
            "agent.exited a/1 #1 pid=101 status=exit 1",
            "a/1 running>failed #1 agent_crashed errors=1",
            "b/1 pending>blocked #0 dependency_failed dependency=a/1",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
    ], final: [a1: .failed, b1: .blocked]),

    TransitionCase(name: "running + renamed output -> validating at once", steps: toRunning + [
        step(written(a1, renamed: true), at: 1001, ["a/1 running>validating #1", "validate a/1 #1 a_batch_1.json"]),
    ], final: [a1: .validating]),

    TransitionCase(name: "running + output written in place -> settle window -> tick -> validating", steps: toRunning + [
        step(written(a1, renamed: false), at: 1001, [], deadline: 1001.2),
        step(.tick, at: 1001.1, [], deadline: 1001.2),
        step(.tick, at: 1001.2, ["a/1 running>validating #1", "validate a/1 #1 a_batch_1.json"]),
    ], final: [a1: .validating]),

    TransitionCase(name: "a second in-place write restarts the settle window", steps: toRunning + [
        step(written(a1, renamed: false), at: 1001, [], deadline: 1001.2),
        step(written(a1, renamed: false), at: 1001.15, [], deadline: 1001.35),
        step(.tick, at: 1001.2, []),
        step(.tick, at: 1001.35, ["a/1 running>validating #1", "validate a/1 #1 a_batch_1.json"]),
    ]),

    TransitionCase(name: "batch.done: an output written in place is complete at once", steps: toRunning + [
        step(written(a1, renamed: false), at: 1001, []),
        step(.batchDone(a1, outputPath: nil), at: 1001.05, ["a/1 running>validating #1", "validate a/1 #1 a_batch_1.json"]),
        step(.tick, at: 1001.2, []),
    ], final: [a1: .validating]),

    TransitionCase(name: "batch.done naming the output -> validating; with no output yet it is ignored", steps: toRunning + [
        step(.batchDone(a1, outputPath: nil), at: 1001, []),
        step(.batchDone(a1, outputPath: smPath(a1)), at: 1002, ["a/1 running>validating #1", "validate a/1 #1 a_batch_1.json"]),
    ], final: [a1: .validating]),

    TransitionCase(name: "settle window cut short by the agent's exit", steps: toRunning + [
        step(written(a1, renamed: false), at: 1001, []),
        step(exited(a1, output: false), at: 1001.05, [
            "agent.exited a/1 #1 pid=101 status=exit 0",
            "a/1 running>validating #1", "validate a/1 #1 a_batch_1.json",
        ]),
        step(.tick, at: 1001.2, []),
    ], final: [a1: .validating]),

    TransitionCase(name: "agent exits 0 without output -> retry_wait no_output", steps: toRunning + [
        step(exited(a1, output: false), at: 1001, [
            "agent.exited a/1 #1 pid=101 status=exit 0",
            "a/1 running>retry_wait #1 no_output errors=1 retry_in_ms=1000",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ], deadline: 1002),
    ], final: [a1: .retryWait]),

    TransitionCase(name: "agent crashes without output -> retry_wait agent_crashed", steps: toRunning + [
        step(exited(a1, status: "exit 3", success: false, output: false), at: 1001, [
            "agent.exited a/1 #1 pid=101 status=exit 3",
            "a/1 running>retry_wait #1 agent_crashed errors=1 retry_in_ms=1000",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
    ], final: [a1: .retryWait]),

    TransitionCase(name: "invalid output -> retry_wait with backoff, file rejected", steps: toValidatingExited + [
        step(validated(a1, 1, smInvalid), at: 1002, [
            "a/1 validating>retry_wait #1 validation_failed errors=2 checksum=c1 retry_in_ms=1000",
            "archive a/1 #1 a_batch_1.json rejected errors=2",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ], deadline: 1003),
    ], final: [a1: .retryWait]),

    TransitionCase(name: "backoff doubles; the last attempt fails and blocks dependants",
                   plan: smPlan(batches: 1), steps: toRunning + [
        step(exited(a1, output: false), at: 1001, [
            "agent.exited a/1 #1 pid=101 status=exit 0",
            "a/1 running>retry_wait #1 no_output errors=1 retry_in_ms=1000",
        ], deadline: 1002),
        step(.tick, at: 1001.999, []),
        step(.tick, at: 1002, ["a/1 retry_wait>spawning #2", "spawn a/1 #2 feedback=1"]),
        step(spawned(a1, 2, pid: 102), at: 1002, ["a/1 spawning>running #2 pid=102"]),
        step(exited(a1, pid: 102, output: false), at: 1003, [
            "agent.exited a/1 #2 pid=102 status=exit 0",
            "a/1 running>retry_wait #2 no_output errors=1 retry_in_ms=2000",
        ], deadline: 1005),
        step(.tick, at: 1005, ["a/1 retry_wait>spawning #3", "spawn a/1 #3 feedback=1"]),
        step(spawned(a1, 3, pid: 103), at: 1005),
        step(exited(a1, pid: 103, output: false), at: 1006, [
            "agent.exited a/1 #3 pid=103 status=exit 0",
            "a/1 running>failed #3 no_output errors=1",
            "b/1 pending>blocked #0 dependency_failed dependency=a/1",
            "run.completed merged=0 failed=1 blocked=1 skipped=0 cancelled=0", "completed r",
        ], deadline: -1),
    ], final: [a1: .failed, b1: .blocked]),

    TransitionCase(name: "invalid output while the agent still runs: agent superseded, no respawn until it exits",
                   steps: toValidatingAlive + [
        step(validated(a1, 1, smInvalid), at: 1002, [
            "agent.signalled a/1 #1 superseded pid=101 signal=SIGTERM",
            "signal a/1 pid=101 SIGTERM",
            "a/1 validating>retry_wait #1 validation_failed errors=2 checksum=c1 retry_in_ms=1000",
            "archive a/1 #1 a_batch_1.json rejected errors=2",
        ], deadline: 1003),
        step(.tick, at: 1003, [], deadline: 1007),
        step(.tick, at: 1007, [
            "agent.signalled a/1 #1 superseded pid=101 signal=SIGKILL", "signal a/1 pid=101 SIGKILL",
        ], deadline: -1),
        step(exited(a1, status: "killed by SIGKILL", success: false, output: false), at: 1008, [
            "agent.exited a/1 #1 superseded pid=101 status=killed by SIGKILL",
            "a/1 retry_wait>spawning #2", "spawn a/1 #2 feedback=2",
        ]),
    ], final: [a1: .spawning, a2: .pending]),

    TransitionCase(name: "unparseable while the agent runs -> running (output_incomplete); after its exit -> failure",
                   steps: toValidatingAlive + [
        step(validated(a1, 1, smUnparseable, unparseable: true), at: 1002, ["a/1 validating>running #1 output_incomplete"]),
        step(exited(a1, output: true), at: 1003, [
            "agent.exited a/1 #1 pid=101 status=exit 0",
            "a/1 running>validating #1", "validate a/1 #1 a_batch_1.json",
        ]),
        step(validated(a1, 1, smUnparseable, checksum: "c2", unparseable: true), at: 1004, [
            "a/1 validating>retry_wait #1 validation_failed errors=1 checksum=c2 retry_in_ms=1000",
            "archive a/1 #1 a_batch_1.json rejected errors=1",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
    ], final: [a1: .retryWait]),

    TransitionCase(name: "unreadable output (no checksum) -> retry_wait output_unreadable", steps: toValidatingExited + [
        step(validated(a1, 1, smUnparseable, checksum: nil), at: 1002, [
            "a/1 validating>retry_wait #1 output_unreadable errors=1 retry_in_ms=1000",
            "archive a/1 #1 a_batch_1.json rejected errors=1",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
    ]),

    TransitionCase(name: "valid -> merging -> merged, accepted, next batch spawned", steps: toValidatingExited + [
        step(validated(a1), at: 1002, ["a/1 validating>merging #1 checksum=c1", "merge a/1 #1 a_batch_1.json c1"]),
        step(merged(a1), at: 1003, [
            "a/1 merging>merged #1 checksum=c1 items=2 already_merged=false",
            "archive a/1 #1 a_batch_1.json accepted c1",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
    ], final: [a1: .merged, a2: .spawning, b1: .pending]),

    TransitionCase(name: "merge conflict -> retry_wait merge_conflict, file rejected", steps: toMerging + [
        step(.mergeConflict(a1, attempt: 1, report: smConflict), at: 1003, [
            "a/1 merging>retry_wait #1 merge_conflict errors=1 retry_in_ms=1000",
            "archive a/1 #1 a_batch_1.json rejected errors=1",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
    ], final: [a1: .retryWait]),

    TransitionCase(name: "output changed before the merge -> validating again", steps: toMerging + [
        step(.outputChanged(a1, attempt: 1), at: 1003, [
            "a/1 merging>validating #1 output_changed", "validate a/1 #1 a_batch_1.json",
        ]),
    ], final: [a1: .validating]),

    TransitionCase(name: "timeout: SIGTERM, grace, SIGKILL, exit -> retry_wait timeout", plan: smPlan(timeout: 10), steps: toRunning + [
        step(.tick, at: 1009.999, [], deadline: 1010),
        step(.tick, at: 1010, [
            "agent.signalled a/1 #1 timeout pid=101 signal=SIGTERM", "signal a/1 pid=101 SIGTERM",
        ], deadline: 1015),
        step(.tick, at: 1014, []),
        step(.tick, at: 1015, [
            "agent.signalled a/1 #1 timeout pid=101 signal=SIGKILL", "signal a/1 pid=101 SIGKILL",
        ], deadline: -1),
        step(.tick, at: 1020, []),
        step(exited(a1, status: "killed by SIGKILL", success: false, output: false), at: 1020.5, [
            "agent.exited a/1 #1 timeout pid=101 status=killed by SIGKILL",
            "a/1 running>retry_wait #1 timeout errors=1 retry_in_ms=1000",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
    ], final: [a1: .retryWait]),

    TransitionCase(name: "timeout: agent exits on SIGTERM, no SIGKILL follows", plan: smPlan(timeout: 10), steps: toRunning + [
        step(.tick, at: 1010, ["agent.signalled a/1 #1 timeout pid=101 signal=SIGTERM", "signal a/1 pid=101 SIGTERM"]),
        step(exited(a1, status: "killed by SIGTERM", success: false, output: false), at: 1011, [
            "agent.exited a/1 #1 timeout pid=101 status=killed by SIGTERM",
            "a/1 running>retry_wait #1 timeout errors=1 retry_in_ms=1000",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
        step(.tick, at: 1015, []),
    ]),

    TransitionCase(name: "an agent still running after its output merged is stopped at its timeout",
                   plan: smPlan(batches: 1, timeout: 10), steps: toValidatingAlive + [
        step(validated(a1), at: 1002),
        step(merged(a1), at: 1003, [
            "a/1 merging>merged #1 checksum=c1 items=2 already_merged=false",
            "archive a/1 #1 a_batch_1.json accepted c1",
        ], deadline: 1010),
        step(.tick, at: 1010, ["agent.signalled a/1 #1 timeout pid=101 signal=SIGTERM", "signal a/1 pid=101 SIGTERM"]),
        step(exited(a1, status: "killed by SIGTERM", success: false, output: false), at: 1011, [
            "agent.exited a/1 #1 timeout pid=101 status=killed by SIGTERM",
            "b/1 pending>spawning #1", "spawn b/1 #1",
        ]),
    ], final: [a1: .merged, b1: .spawning]),

    TransitionCase(name: "last attempt invalid -> failed, dependants blocked across 3 phases, file rejected",
                   plan: smPlan(phases: ["a", "b", "c"], maxAttempts: 1), steps: toValidatingExited + [
        step(validated(a1, 1, smInvalid), at: 1002, [
            "a/1 validating>failed #1 validation_failed errors=2 checksum=c1",
            "b/1 pending>blocked #0 dependency_failed dependency=a/1",
            "c/1 pending>blocked #0 dependency_failed dependency=a/1",
            "archive a/1 #1 a_batch_1.json rejected errors=2",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
    ], final: [a1: .failed, b1: .blocked, c1: .blocked, a2: .spawning, sm("b", 2): .pending, sm("c", 2): .pending]),

    TransitionCase(name: "a file dropped by hand for a pending batch -> validating (output_dropped)", steps: [
        step(written(a2, renamed: false), at: 1000.5, [
            "a/2 pending>validating #1 output_dropped attempts_allowed=3", "validate a/2 #1 a_batch_2.json",
        ]),
        step(validated(a2, 1, checksum: "d1"), at: 1001, ["a/2 validating>merging #1 checksum=d1", "merge a/2 #1 a_batch_2.json d1"]),
    ], final: [a1: .spawning, a2: .merging]),

    TransitionCase(name: "a late file for a failed batch is checked as one more attempt", plan: smPlan(maxAttempts: 1), steps: toFailed + [
        step(written(a1, renamed: true), at: 1001, [
            "a/1 failed>validating #2 output_dropped attempts_allowed=2", "validate a/1 #2 a_batch_1.json",
            "b/1 blocked>pending #0 dependency_requeued",
        ]),
        step(validated(a1, 2, smInvalid), at: 1002, [
            "a/1 validating>failed #2 validation_failed errors=2 checksum=c1",
            "b/1 pending>blocked #0 dependency_failed dependency=a/1",
            "archive a/1 #2 a_batch_1.json rejected errors=2",
        ]),
    ], final: [a1: .failed, b1: .blocked]),

    TransitionCase(name: "a valid late file for a failed batch merges it and its dependant runs",
                   plan: smPlan(batches: 1, maxAttempts: 1), steps: toFailed + [
        step(written(a1, renamed: true), at: 1001, [
            "a/1 failed>validating #2 output_dropped attempts_allowed=2", "validate a/1 #2 a_batch_1.json",
            "b/1 blocked>pending #0 dependency_requeued",
        ]),
        step(validated(a1, 2), at: 1002),
        step(merged(a1, 2), at: 1003, [
            "a/1 merging>merged #2 checksum=c1 items=2 already_merged=false",
            "archive a/1 #2 a_batch_1.json accepted c1",
            "b/1 pending>spawning #1", "spawn b/1 #1",
        ]),
    ], final: [a1: .merged, b1: .spawning]),

    TransitionCase(name: "a file for a merged batch -> settleDuplicate with the merged checksum", steps: toMerged + [
        step(written(a1, renamed: true), at: 1004, ["duplicate a/1 a_batch_1.json c1"]),
    ], final: [a1: .merged]),

    TransitionCase(name: "a file for a blocked batch is rejected", plan: smPlan(maxAttempts: 1), steps: toFailed + [
        step(written(b1, renamed: true), at: 1001, ["reject r b_batch_1.json: batch r/b/1 is blocked"]),
    ], final: [b1: .blocked]),

    TransitionCase(name: "a file for a skipped batch is rejected", steps: [
        step(ctl(.skip, a2), at: 1000.5, [
            "a/2 pending>skipped #0 skip", "b/2 pending>skipped #0 dependency_skipped dependency=a/2",
            "control.applied a/2 command=skip batches=1",
        ]),
        step(written(a2, renamed: false), at: 1001, ["reject r a_batch_2.json: batch r/a/2 is skipped"]),
    ], final: [a2: .skipped, b2: .skipped]),

    TransitionCase(name: "a file for a cancelled batch is rejected", steps: [
        step(ctl(.cancel, a2), at: 1000.5),
        step(written(a2, renamed: true), at: 1001, ["reject r a_batch_2.json: batch r/a/2 is cancelled"]),
    ], final: [a2: .cancelled]),

    TransitionCase(name: "a file for an unknown phase, batch or run is rejected", steps: [
        step(written(sm("z", 1), renamed: true), at: 1001, ["reject r z_batch_1.json: no such batch in run r: z_batch_1.json"]),
        step(written(sm("a", 3), renamed: true), at: 1002, ["reject r a_batch_3.json: no such batch in run r: a_batch_3.json"]),
        step(written(sm("a", 1, run: "q"), renamed: true), at: 1003, ["reject q a_batch_1.json: no such batch in run q: a_batch_1.json"]),
    ], final: [a1: .spawning, a2: .pending]),

    TransitionCase(name: "pause: nothing new starts, the running batch finishes; resume starts the next", steps: [
        step(ctl(.pause), at: 1000, ["control.applied command=pause batches=0"]),
        step(spawned(a1), at: 1000.1, ["a/1 spawning>running #1 pid=101"]),
        step(exited(a1, output: true), at: 1001, [
            "agent.exited a/1 #1 pid=101 status=exit 0", "a/1 running>validating #1", "validate a/1 #1 a_batch_1.json",
        ]),
        step(validated(a1), at: 1002),
        step(merged(a1), at: 1003, [
            "a/1 merging>merged #1 checksum=c1 items=2 already_merged=false", "archive a/1 #1 a_batch_1.json accepted c1",
        ]),
        step(.tick, at: 1010, []),
        step(ctl(.resume), at: 1011, ["control.applied command=resume batches=0", "a/2 pending>spawning #1", "spawn a/2 #1"]),
    ], final: [a1: .merged, a2: .spawning]),

    TransitionCase(name: "retry a failed batch: pending with more attempts, spawned at once with the old errors",
                   plan: smPlan(batches: 1, maxAttempts: 1), steps: toRunning + [
        step(exited(a1, status: "exit 1", success: false, output: false), at: 1000, [
            "agent.exited a/1 #1 pid=101 status=exit 1",
            "a/1 running>failed #1 agent_crashed errors=1",
            "b/1 pending>blocked #0 dependency_failed dependency=a/1",
            "run.completed merged=0 failed=1 blocked=1 skipped=0 cancelled=0", "completed r",
        ]),
        step(ctl(.retry, a1), at: 1001, [
            "a/1 failed>pending #1 retry attempts_allowed=2",
            "b/1 blocked>pending #0 dependency_requeued",
            "control.applied a/1 command=retry batches=1",
            "a/1 pending>spawning #2", "spawn a/1 #2 feedback=1",
        ]),
        step(spawned(a1, 2, pid: 102), at: 1001),
        step(exited(a1, pid: 102, output: true), at: 1002),
        step(validated(a1, 2), at: 1003),
        step(merged(a1, 2), at: 1004, [
            "a/1 merging>merged #2 checksum=c1 items=2 already_merged=false",
            "archive a/1 #2 a_batch_1.json accepted c1",
            "b/1 pending>spawning #1", "spawn b/1 #1",
        ]),
    ], final: [a1: .merged, b1: .spawning]),

    TransitionCase(name: "retry a batch whose dependency cannot run is rejected, naming the dependency",
                   plan: smPlan(phases: ["a", "b", "c"], batches: 1, maxAttempts: 1), steps: toFailed + [
        step(ctl(.retry, b1), at: 1001, [
            "control.rejected b/1 batch is blocked; it waits for a/1, which is failed: retry or skip that first command=retry",
        ]),
        step(ctl(.cancel), at: 1002, ["control.applied command=cancel batches=0"]),
        step(ctl(.retry, a1), at: 1003, [
            "a/1 failed>pending #1 retry attempts_allowed=2",
            "b/1 blocked>pending #0 dependency_requeued", "c/1 blocked>pending #0 dependency_requeued",
            "control.applied a/1 command=retry batches=1",
            "a/1 pending>spawning #2", "spawn a/1 #2 feedback=1",
        ]),
        step(ctl(.cancel), at: 1004, [
            "a/1 spawning>cancelled #2 cancel", "b/1 pending>cancelled #0 dependency_cancelled dependency=a/1",
            "c/1 pending>cancelled #0 dependency_cancelled dependency=b/1",
            "control.applied command=cancel batches=3",
            "run.completed merged=0 failed=0 blocked=0 skipped=0 cancelled=3", "completed r",
        ]),
        step(ctl(.retry, c1), at: 1005, [
            "control.rejected c/1 batch is cancelled; it waits for b/1, which is cancelled: retry or skip that first command=retry",
        ]),
        step(ctl(.retry, b1), at: 1006, [
            "control.rejected b/1 batch is cancelled; it waits for a/1, which is cancelled: retry or skip that first command=retry",
        ]),
        step(ctl(.skip, a1), at: 1007, ["a/1 cancelled>skipped #2 skip", "control.applied a/1 command=skip batches=1"]),
        step(ctl(.retry, b1), at: 1008, [
            "b/1 cancelled>pending #0 retry attempts_allowed=1", "c/1 cancelled>pending #0 dependency_requeued",
            "control.applied b/1 command=retry batches=1",
            "b/1 pending>spawning #1", "spawn b/1 #1",
        ]),
    ], final: [a1: .skipped, b1: .spawning, c1: .pending]),

    TransitionCase(name: "skip a pending batch: its dependant is skipped too, and retry brings both back", steps: [
        step(ctl(.skip, a2), at: 1000, [
            "a/2 pending>skipped #0 skip", "b/2 pending>skipped #0 dependency_skipped dependency=a/2",
            "control.applied a/2 command=skip batches=1",
        ]),
    ] + toMerging.map { var s = $0; s.at += 1; return s } + [
        step(merged(a1), at: 1004, [
            "a/1 merging>merged #1 checksum=c1 items=2 already_merged=false", "archive a/1 #1 a_batch_1.json accepted c1",
            "b/1 pending>spawning #1", "spawn b/1 #1",
        ]),
        step(spawned(b1, pid: 201), at: 1005),
        step(exited(b1, pid: 201, output: true), at: 1006),
        step(validated(b1, checksum: "e1"), at: 1007),
        step(merged(b1, checksum: "e1"), at: 1008, [
            "b/1 merging>merged #1 checksum=e1 items=2 already_merged=false", "archive b/1 #1 b_batch_1.json accepted e1",
            "run.completed merged=2 failed=0 blocked=0 skipped=2 cancelled=0", "completed r",
        ]),
        step(ctl(.retry, a2), at: 1009, [
            "a/2 skipped>pending #0 retry attempts_allowed=3", "b/2 skipped>pending #0 dependency_requeued",
            "control.applied a/2 command=retry batches=1", "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
    ], final: [a2: .spawning, b2: .pending]),

    TransitionCase(name: "skip a failed batch: its blocked dependant is skipped, not run with no input",
                   plan: smPlan(batches: 1, maxAttempts: 1), steps: toFailed + [
        step(ctl(.skip, a1), at: 1001, [
            "a/1 failed>skipped #1 skip",
            "b/1 blocked>skipped #0 dependency_skipped dependency=a/1",
            "control.applied a/1 command=skip batches=1",
        ]),
    ], final: [a1: .skipped, b1: .skipped]),

    TransitionCase(name: "cancel a running batch: SIGTERM, cancelled, dependant blocked, slot freed when the agent is gone",
                   steps: toRunning + [
        step(ctl(.cancel, a1), at: 1001, [
            "agent.signalled a/1 #1 cancelled pid=101 signal=SIGTERM", "signal a/1 pid=101 SIGTERM",
            "a/1 running>cancelled #1 cancel",
            "b/1 pending>blocked #0 dependency_cancelled dependency=a/1",
            "control.applied a/1 command=cancel batches=1",
        ], deadline: 1006),
        step(.tick, at: 1006, ["agent.signalled a/1 #1 cancelled pid=101 signal=SIGKILL", "signal a/1 pid=101 SIGKILL"]),
        step(exited(a1, status: "killed by SIGKILL", success: false, output: false), at: 1006.5, [
            "agent.exited a/1 #1 cancelled pid=101 status=killed by SIGKILL",
            "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
    ], final: [a1: .cancelled, b1: .blocked, a2: .spawning]),

    TransitionCase(name: "cancel a whole run: every unfinished batch cancelled, dependants because of their dependency", steps: [
        step(ctl(.cancel), at: 1001, [
            "a/1 spawning>cancelled #1 cancel", "a/2 pending>cancelled #0 cancel",
            "b/1 pending>cancelled #0 dependency_cancelled dependency=a/1",
            "b/2 pending>cancelled #0 dependency_cancelled dependency=a/2",
            "control.applied command=cancel batches=4",
            "run.completed merged=0 failed=0 blocked=0 skipped=0 cancelled=4", "completed r",
        ]),
    ], final: [a1: .cancelled, a2: .cancelled, b1: .cancelled, b2: .cancelled]),

    TransitionCase(name: "retry of a batch cancelled with its run brings back the dependants cancelled because of it", steps: [
        step(ctl(.cancel), at: 1001),
        step(exited(a1, status: "exit 1", success: false, output: false), at: 1001.5),
        step(ctl(.retry, a2), at: 1002, [
            "a/2 cancelled>pending #0 retry attempts_allowed=3", "b/2 cancelled>pending #0 dependency_requeued",
            "control.applied a/2 command=retry batches=1", "a/2 pending>spawning #1", "spawn a/2 #1",
        ]),
    ], final: [a1: .cancelled, b1: .cancelled, a2: .spawning, b2: .pending]),

    TransitionCase(name: "retry does not bring back a dependant the operator cancelled on its own", plan: smPlan(batches: 1), steps: [
        step(ctl(.cancel, b1), at: 1001, ["b/1 pending>cancelled #0 cancel", "control.applied b/1 command=cancel batches=1"]),
        step(ctl(.cancel, a1), at: 1002),
        step(exited(a1, status: "exit 1", success: false, output: false), at: 1002.5),
        step(ctl(.retry, a1), at: 1003, [
            "a/1 cancelled>pending #1 retry attempts_allowed=4",
            "control.applied a/1 command=retry batches=1", "a/1 pending>spawning #2", "spawn a/1 #2",
        ]),
    ], final: [a1: .spawning, b1: .cancelled]),

    TransitionCase(name: "controls for an unknown run or batch, or a batch in the wrong state, are rejected", steps: [
        step(ctl(.retry, run: "nope"), at: 1001, ["control.rejected unknown run nope command=retry"]),
        step(ctl(.skip, sm("z", 1)), at: 1002, ["control.rejected z/1 no batch z/1 in run r command=skip"]),
        step(ctl(.cancel, sm("a", 9)), at: 1003, ["control.rejected a/9 no batch a/9 in run r command=cancel"]),
        step(ctl(.retry, a1), at: 1004, ["control.rejected a/1 batch is spawning command=retry"]),
        step(ctl(.skip, a1), at: 1005, ["control.rejected a/1 batch is spawning command=skip"]),
        step(.control(ControlCommand(verb: .retry, run: "r", phase: "a", batch: 2, id: "x7")), at: 1006,
             ["control.rejected a/2 batch is pending command=retry id=x7"]),
    ], final: [a1: .spawning, a2: .pending]),

    TransitionCase(name: "run.completed once when every batch is terminal", plan: smPlan(batches: 1), steps: toMerging + [
        step(merged(a1), at: 1003, [
            "a/1 merging>merged #1 checksum=c1 items=2 already_merged=false", "archive a/1 #1 a_batch_1.json accepted c1",
            "b/1 pending>spawning #1", "spawn b/1 #1",
        ]),
        step(spawned(b1, pid: 201), at: 1004),
        step(exited(b1, pid: 201, output: true), at: 1005),
        step(validated(b1, checksum: "e1"), at: 1006),
        step(merged(b1, checksum: "e1"), at: 1007, [
            "b/1 merging>merged #1 checksum=e1 items=2 already_merged=false", "archive b/1 #1 b_batch_1.json accepted e1",
            "run.completed merged=2 failed=0 blocked=0 skipped=0 cancelled=0", "completed r",
        ]),
        step(.tick, at: 1100, []),
        step(written(b1, renamed: true), at: 1101, ["duplicate b/1 b_batch_1.json e1"]),
        step(ctl(.pause), at: 1102, ["control.applied command=pause batches=0"]),
    ], final: [a1: .merged, b1: .merged]),
]

@Suite struct WatcherStateTransitionTests {
    @Test func addingAPlanLogsRunStartedOnceAndTheFirstTickSpawns() {
        var m = Machine()
        let first = m.state.add(smPlan())
        #expect(smDescribe(first) == ["run.started phases=a,b batches=2 items=4 batch_size=2 concurrency=1"])
        #expect(m.state.add(smPlan()).isEmpty)
        #expect(m.state.batches.count == 4)
        #expect(m.state.batches.values.allSatisfy { $0.state == .pending && $0.attempt == 0 && $0.attemptsAllowed == 3 })
        #expect(m.deadline == nil)
        #expect(smDescribe(m.start()) == ["a/1 pending>spawning #1", "spawn a/1 #1"])
        #expect(m.stateOf(a1) == .spawning)
        #expect(m.state.batch(a1)?.attempt == 1)
    }

    @Test(arguments: transitionCases)
    func transition(_ c: TransitionCase) {
        var m = Machine(c.plan)
        m.start()
        for (i, s) in c.steps.enumerated() {
            let effects = m.send(s.input, at: s.at)
            if let expect = s.expect {
                #expect(smDescribe(effects) == expect, "step \(i) at \(s.at)")
            }
            if let d = s.deadline {
                #expect(m.deadline == (d < 0 ? nil : d), "deadline after step \(i)")
            }
        }
        for (id, state) in c.final.sorted(by: { $0.key < $1.key }) {
            #expect(m.stateOf(id) == state, "final state of \(id)")
        }
    }

    @Test func transitionEventsCarryFailedItemsAndTheFirstMessage() throws {
        var m = Machine(smPlan())
        m.start()
        for s in toValidatingExited { m.send(s.input, at: s.at) }
        let effects = m.send(validated(a1, 1, smInvalid), at: 1002)
        let e = try #require(smTransitions(effects, of: a1).first)
        #expect(e.from == "validating" && e.to == "retry_wait" && e.reason == "validation_failed" && e.attempt == 1)
        #expect(e.strings("failed_items") == ["S0001", "S0002"])
        #expect(e.string("message") == "S0001 is missing")
        #expect(e.int("errors") == 2)
        #expect(e.int("retry_in_ms") == 1000)
        #expect(m.state.batch(a1)?.lastReason == "validation_failed")
        #expect(m.state.batch(a1)?.lastErrorCount == 2)
        #expect(m.state.batch(a1)?.lastReport == smInvalid)
        // The rejected archive carries the whole report for `<name>.errors.json`.
        #expect(effects.contains(.archive(a1, attempt: 1, path: smPath(a1), destination: .rejected(smInvalid))))
    }

    @Test func theRetryPromptGetsThePreviousAttemptsReport() throws {
        var m = Machine(smPlan(batches: 1))
        m.start()
        for s in toValidatingExited { m.send(s.input, at: s.at) }
        m.send(validated(a1, 1, smInvalid), at: 1002)
        let effects = m.send(.tick, at: 1003)
        #expect(effects.contains(.spawn(a1, attempt: 2, feedback: smInvalid)))
        // After a merge the report is gone.
        m.send(spawned(a1, 2, pid: 102), at: 1003)
        m.send(exited(a1, pid: 102, output: true), at: 1004)
        m.send(validated(a1, 2), at: 1005)
        m.send(merged(a1, 2), at: 1006)
        #expect(m.state.batch(a1)?.lastReport == nil)
        #expect(m.state.batch(a1)?.mergedChecksum == "c1")
        #expect(m.state.batch(a1)?.lastReason == nil)
    }

    @Test func anAlreadyMergedBatchIsLoggedAsSuch() throws {
        var m = Machine(smPlan())
        m.start()
        for s in toMerging { m.send(s.input, at: s.at) }
        let effects = m.send(.merged(a1, attempt: 1, checksum: "c1", items: 2, alreadyMerged: true), at: 1003)
        let e = try #require(smTransitions(effects, of: a1).first)
        #expect(e.to == "merged")
        #expect(e[ "already_merged"] == .bool(true))
        #expect(e.int("items") == 2)
    }

    @Test func spawnFailedMessageReachesTheLogAndTheReport() throws {
        var m = Machine(smPlan())
        m.start()
        let effects = m.send(.spawnFailed(a1, attempt: 1, message: "posix_spawn: No such file or directory"), at: 1000)
        let e = try #require(smTransitions(effects, of: a1).first)
        #expect(e.string("message") == "posix_spawn: No such file or directory")
        #expect(e.string("class") == "spawn_failed")
        #expect(e.bool("attempt_used") == false)
        // Not the batch's fault: nothing goes into its next prompt, and the attempt is handed back.
        #expect(m.state.batch(a1)?.lastReport == nil)
        #expect(m.state.batch(a1)?.attempt == 0)
    }

    @Test func timeoutMessageNamesTheLimit() throws {
        var m = Machine(smPlan(timeout: 10))
        m.start()
        m.send(spawned(a1), at: 1000)
        m.send(.tick, at: 1010)
        let effects = m.send(exited(a1, status: "killed by SIGTERM", success: false, output: false), at: 1011)
        let e = try #require(smTransitions(effects, of: a1).first)
        #expect(e.reason == "timeout")
        #expect(e.string("message") == "the agent did not finish within 10 s and was stopped (killed by SIGTERM)")
        #expect(m.state.batch(a1)?.lastReport?.errors.first?.type == "timeout")
    }

    @Test func aTimedOutAgentsSettlingOutputIsRejected() {
        // The agent wrote in place, then hung: the settle window fires first (validation wins).
        var m = Machine(smPlan(timeout: 10))
        m.start()
        m.send(spawned(a1), at: 1000)
        m.send(written(a1, renamed: false), at: 1009.9)
        let effects = m.send(.tick, at: 1010.1)
        #expect(smDescribe(effects) == ["a/1 running>validating #1", "validate a/1 #1 a_batch_1.json"])
    }

    @Test func everyLoggedTransitionStartsFromTheBatchsPreviousState() {
        // Over all table cases, `from` of each transition is the state the batch was in.
        for c in transitionCases {
            var m = Machine(c.plan)
            var last: [BatchID: String] = [:]
            for id in c.plan.batchIDs { last[id] = "pending" }
            var all = m.start()
            for s in c.steps { all += m.send(s.input, at: s.at) }
            for e in smTransitions(all) {
                guard let id = e.batchID else { continue }
                #expect(e.from == last[id], "\(c.name): \(smName(id)) \(e.from ?? "?")>\(e.to ?? "?")")
                last[id] = e.to
            }
            for (id, s) in last { #expect(m.stateOf(id)?.rawValue == s, "\(c.name): \(id)") }
        }
    }
}
