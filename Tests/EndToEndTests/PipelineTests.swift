import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem
import XCTest

/// Custom pipelines whose agents are shell scripts, run by `agent-watcher run`.
final class PipelineTests: EndToEndTestCase {
    /// One run, two phases, seven batches of two items; each batch of phase p1 has an agent
    /// that behaves differently (phase p2's agents just publish a valid batch):
    ///   1 writes under outbox/tmp/ and renames                 -> merged
    ///   2 writes in place, two writes with a pause, then waits  -> merged after close + settle
    ///   3 writes invalid JSON and exits (attempt 1)             -> retry, the error in the next prompt
    ///   4 writes nothing and exits 0 (attempt 1)                -> no_output, retry
    ///   5 ignores SIGTERM and hangs (attempt 1)                 -> timeout, SIGTERM, SIGKILL, retry
    ///   6 always leaves item i12 out                            -> failed after maxAttempts, p2/6 blocked
    ///   7 is flagged by the external validator (attempt 1)      -> retry listing only i13
    func testAgentBehavioursDriveEachBatchThroughItsStates() throws {
        let sandbox = try makeSandbox()
        let validators: [[String: Any]] = [["argv": ["/bin/sh", "validator.sh", "{batch}", "{attempt}", "{batch_file}"],
                                            "timeoutSeconds": 10]]
        let spec = Fixtures.spec(run: "b", batchSize: 2, phases: [
            Fixtures.objectPhase("p1", file: "out/p1.json", extra: ["timeoutSeconds": 1.5, "validators": validators,
                                                                    "instructions": "p1.md"]),
            Fixtures.objectPhase("p2", file: "out/p2.json"),
        ])
        try sandbox.write("p1.md", "# Phase p1\n\nCopy each item.\n")
        try sandbox.write("validator.sh", """
        if [ "$1" = 7 ] && [ "$2" = 1 ]; then
          echo '{"errors": [{"type": "style", "item": "i13", "message": "i13: the word must be upper case", "suggestion": "write W13"}]}'
          exit 1
        fi
        exit 0
        """)
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 14, agentBody: """
        st=e2e
        if [ "$phase" = p2 ]; then object_batch $start $end | publish "$out"; exit 0; fi
        case "$batch" in
        1) object_batch $start $end | publish "$out" ;;
        2) wait_for mailbox/b/accepted/p1_batch_1.json # the daemon watches by then (see testInPlaceWriteAtStartup...)
           object_batch $start $end > "$st/full-2"
           exec 3>"$out"
           head -c 20 "$st/full-2" >&3
           sleep 0.4
           tail -c +21 "$st/full-2" >&3
           stamp "$st/b2-last-write"
           exec 3>&-
           sleep 1 ;;
        3) if [ "$attempt" = 1 ]; then printf '{"results": {"i5": {"id": "i5",' | publish "$out"
           else object_batch $start $end | publish "$out"; fi ;;
        4) [ "$attempt" = 1 ] || object_batch $start $end | publish "$out" ;;
        5) if [ "$attempt" = 1 ]; then trap '' TERM; echo $$ > "$st/b5-pid"; while :; do sleep 1; done; fi
           object_batch $start $end | publish "$out" ;;
        6) object_batch $start $end 12 | publish "$out" ;;
        7) object_batch $start $end | publish "$out" ;;
        esac
        """)
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        let completed = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(40), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "b")
        }
        XCTAssertEqual(completed["merged"]?.int, 12)
        XCTAssertEqual(completed["failed"]?.int, 1)
        XCTAssertEqual(completed["blocked"]?.int, 1)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        try assertWellFormedLog(sandbox.eventLog)
        let records = try EventLog.read(sandbox.eventLog)
        func path(_ batch: Int, phase: String = "p1") -> [String] {
            records.filter { $0.event == "batch.transition" && $0.phase == phase && $0.batch == batch }
                .map(\.step)
        }
        func one(_ what: String, _ match: (LogRecord) -> Bool) throws -> LogRecord {
            let found = records.filter(match)
            XCTAssertEqual(found.count, 1, "exactly one \(what) in the log")
            return try XCTUnwrap(found.first, what)
        }
        let happy = ["1:pending>spawning", "1:spawning>running", "1:running>validating", "1:validating>merging", "1:merging>merged"]

        // (a) tmp + rename.
        XCTAssertEqual(path(1), happy)
        let merged1 = try one("merge of p1/1") { $0.isTransition(phase: "p1", batch: 1, to: "merged") }
        let checksum = try XCTUnwrap(merged1["checksum"]?.string)
        XCTAssertEqual(merged1["items"]?.int, 2)
        XCTAssertTrue(try sandbox.read("mailbox/b/accepted/p1_batch_1.json.sha256").hasPrefix(checksum + " "))
        XCTAssertEqual(try sandbox.read("mailbox/b/accepted/p1_batch_1.json"), "{\"results\": {\n  \"i1\": "
                       + Fixtures.item(1).description + ",\n  \"i2\": " + Fixtures.item(2).description + "\n}}\n")
        XCTAssertFalse(sandbox.exists("mailbox/b/outbox/p1_batch_1.json"))

        // (b) in place, slowly: validated only after the last write, the close and the settle
        // window, while the agent still ran.
        XCTAssertEqual(path(2), happy)
        let lastWrite = try XCTUnwrap(Double(sandbox.read("e2e/b2-last-write").trimmingCharacters(in: .whitespacesAndNewlines)))
        let validating2 = try one("validation of p1/2") { $0.isTransition(phase: "p1", batch: 2, to: "validating") }
        XCTAssertGreaterThan(validating2.time, lastWrite + 0.045,
                             "validating at \(validating2.ts) must follow the last write (\(lastWrite)) by the settle window")
        let exited2 = try one("exit of p1/2's agent") { $0.isEvent("agent.exited", phase: "p1", batch: 2) }
        XCTAssertLessThan(validating2.seq, exited2.seq, "the settle window, not the agent's exit, ended the wait")

        // (c) invalid JSON: a retry whose prompt carries the parse error.
        XCTAssertEqual(Array(path(3).prefix(3)), ["1:pending>spawning", "1:spawning>running", "1:running>validating"])
        let retry3 = try one("retry of p1/3") { $0.isTransition(phase: "p1", batch: 3, to: "retry_wait", attempt: 1) }
        XCTAssertEqual(retry3.reason, "validation_failed")
        let parseError = try XCTUnwrap(retry3["message"]?.string)
        XCTAssertEqual(path(3).last, "2:merging>merged")
        let firstPrompt = try sandbox.read("logs/agents/b/p1-3-1.prompt.md")
        let secondPrompt = try sandbox.read("logs/agents/b/p1-3-2.prompt.md")
        XCTAssertTrue(firstPrompt.hasPrefix("# Phase p1\n\nCopy each item."), firstPrompt)
        XCTAssertFalse(firstPrompt.contains("previous attempt"), firstPrompt)
        XCTAssertTrue(secondPrompt.contains("previous attempt"), secondPrompt)
        XCTAssertTrue(secondPrompt.contains(parseError), "the prompt of attempt 2 names the parse error '\(parseError)':\n\(secondPrompt)")
        XCTAssertTrue(secondPrompt.contains(sandbox.root + "/mailbox/b/outbox/p1_batch_3.json"), secondPrompt)
        let errors3 = try JSON.parse(sandbox.read("mailbox/b/rejected/p1_batch_3.attempt-1.errors.json"))
        XCTAssertEqual(errors3["errors"]?[0]?["type"]?.string, "invalid_json")
        XCTAssertEqual(try sandbox.read("mailbox/b/rejected/p1_batch_3.attempt-1.json"), "{\"results\": {\"i5\": {\"id\": \"i5\",")

        // (d) no output.
        XCTAssertEqual(path(4), ["1:pending>spawning", "1:spawning>running", "1:running>retry_wait(no_output)",
                                 "2:retry_wait>spawning", "2:spawning>running", "2:running>validating",
                                 "2:validating>merging", "2:merging>merged"])
        XCTAssertTrue(try sandbox.read("logs/agents/b/p1-4-2.prompt.md").contains("without writing p1_batch_4.json"))

        // (e) hang: SIGTERM at the timeout, ignored, SIGKILL after the grace, attempt failed.
        let term = try one("SIGTERM of p1/5") { $0.isEvent("agent.signalled", phase: "p1", batch: 5) && $0["signal"]?.string == "SIGTERM" }
        let kill = try one("SIGKILL of p1/5") { $0.isEvent("agent.signalled", phase: "p1", batch: 5) && $0["signal"]?.string == "SIGKILL" }
        XCTAssertEqual(term.reason, "timeout")
        XCTAssertEqual(term.attempt, 1)
        XCTAssertLessThan(term.seq, kill.seq)
        XCTAssertGreaterThanOrEqual(kill.time - term.time, 0.25, "SIGKILL only after killGraceSeconds")
        let spawned5 = try one("start of p1/5") { $0.isTransition(phase: "p1", batch: 5, to: "running", attempt: 1) }
        XCTAssertGreaterThanOrEqual(term.time - spawned5.time, 1.45, "SIGTERM only after timeoutSeconds")
        XCTAssertEqual(term.pid, spawned5.pid)
        let exited5 = try one("exit of p1/5 #1") { $0.isEvent("agent.exited", phase: "p1", batch: 5) && $0.attempt == 1 }
        XCTAssertEqual(exited5["status"]?.string, "killed by SIGKILL")
        XCTAssertEqual(exited5.reason, "timeout")
        XCTAssertTrue(path(5).contains("1:running>retry_wait(timeout)"), "\(path(5))")
        XCTAssertEqual(path(5).last, "2:merging>merged")
        let agent5 = try XCTUnwrap(pid_t(sandbox.read("e2e/b5-pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(agent5, spawned5.pid)
        XCTAssertFalse(ProcessControl.isGroupAlive(agent5), "the timed-out agent's group is gone")

        // (f) attempts exhausted: failed, both files kept with their errors, dependant blocked.
        XCTAssertEqual(path(6), ["1:pending>spawning", "1:spawning>running", "1:running>validating",
                                 "1:validating>retry_wait(validation_failed)", "2:retry_wait>spawning", "2:spawning>running",
                                 "2:running>validating", "2:validating>failed(validation_failed)"])
        let failed6 = try one("failure of p1/6") { $0.isTransition(phase: "p1", batch: 6, to: "failed") }
        XCTAssertEqual(failed6["failed_items"]?.strings, ["i12"])
        for attempt in 1...2 {
            XCTAssertTrue(sandbox.exists("mailbox/b/rejected/p1_batch_6.attempt-\(attempt).json"))
            let report = try JSON.parse(sandbox.read("mailbox/b/rejected/p1_batch_6.attempt-\(attempt).errors.json"))
            XCTAssertEqual(report["valid"], .bool(false))
            XCTAssertEqual(report["failedItems"]?.strings, ["i12"])
            XCTAssertEqual(report["errors"]?[0]?["type"]?.string, "missing_item")
        }
        let prompt6 = try sandbox.read("logs/agents/b/p1-6-2.prompt.md")
        XCTAssertTrue(prompt6.contains("Failed items: i12."), prompt6)
        XCTAssertTrue(prompt6.contains("Start from the previous attempt's file at \(sandbox.path("mailbox/b/rejected/p1_batch_6.attempt-1.json")): "
            + "keep the items that passed, fix the failed ones."), prompt6)
        XCTAssertEqual(path(6, phase: "p2"), ["0:pending>blocked(dependency_failed)"])
        XCTAssertFalse(sandbox.exists("logs/agents/b/p2-6-1.prompt.md"), "a blocked batch spawns no agent")

        // (h) external validator: retry with only the flagged item in the feedback.
        let retry7 = try one("retry of p1/7") { $0.isTransition(phase: "p1", batch: 7, to: "retry_wait") }
        XCTAssertEqual(retry7.reason, "validation_failed")
        XCTAssertEqual(retry7["failed_items"]?.strings, ["i13"])
        XCTAssertEqual(path(7).last, "2:merging>merged")
        let prompt7 = try sandbox.read("logs/agents/b/p1-7-2.prompt.md")
        let feedback = try XCTUnwrap(prompt7.range(of: "previous attempt").map { String(prompt7[$0.upperBound...]) }, prompt7)
        XCTAssertTrue(feedback.contains("Failed items: i13.\nPassed items: i14."), feedback)
        XCTAssertTrue(feedback.contains("i13: the word must be upper case"), feedback)
        let errorLines = feedback.split(separator: "\n").filter { $0.hasPrefix("- ") }
        XCTAssertFalse(errorLines.isEmpty, feedback)
        XCTAssertFalse(errorLines.contains { $0.contains("i14") }, "only the failed item's errors are listed:\n\(feedback)")
        XCTAssertTrue(prompt7.contains(Fixtures.item(14).description), "the input items are all there")

        // The main files: every merged batch's items, in batch order, equal to the inputs.
        let expected = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14]
        for phase in ["p1", "p2"] {
            let items = try containerItems(sandbox.read("out/\(phase).json"), key: "results", idField: nil)
            XCTAssertEqual(items.map(\.id), expected.map { "i\($0)" }, phase)
            for (item, k) in zip(items, expected) { XCTAssertEqual(item.value, Fixtures.item(k), "\(phase) \(item.id)") }
        }
    }

    /// The three merge strategies, with batch 2 merged before batch 1 and batch 3 last:
    /// each main file holds the items in batch order, equal to what the agents wrote.
    func testMergeStrategiesKeepBatchOrderWhateverTheMergeOrder() throws {
        let sandbox = try makeSandbox()
        let outputs: [(run: String, output: [String: Any], path: String)] = [
            ("obj", ["file": "out/obj.json", "strategy": "object", "key": "results",
                     "template": ["kind": "e2e", "results": [String: Any](), "z": [1, 2]]], "out/obj.json"),
            ("arr", ["file": "out/arr.json", "strategy": "array", "key": "rows", "idField": "id"], "out/arr.json"),
            ("jl", ["file": "out/jl.jsonl", "strategy": "jsonl", "idField": "id"], "out/jl.jsonl"),
        ]
        var specs: [String] = []
        for o in outputs {
            let spec = Fixtures.spec(run: o.run, batchSize: 2, phases: [["id": "m", "output": o.output]])
            specs.append(try Fixtures.install(in: sandbox, spec: spec, itemCount: 6))
        }
        try sandbox.write("agent.sh", """
        . ./lib.sh
        phase=$1 batch=$2 attempt=$3 start=$4 end=$5 out=$6 run=$7
        case "$batch" in
        1) wait_for "mailbox/$run/accepted/m_batch_2.json" ;;
        3) wait_for "mailbox/$run/accepted/m_batch_1.json" ;;
        esac
        case "$run" in
        obj) object_batch $start $end ;;
        arr) array_batch $start $end ;;
        jl) jsonl_batch $start $end ;;
        esac | publish "$out"
        """)
        // One daemon, three pipelines (the first by --pipeline, the others as arguments).
        let daemon = try sandbox.start(["run", "--root", sandbox.root, "--pipeline", specs[0], specs[1], specs[2]])
        for o in outputs {
            try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.completed of \(o.run)") {
                $0.isEvent("run.completed", run: o.run)
            }
        }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let records = try EventLog.read(sandbox.eventLog)
        for o in outputs {
            let merges = records.filter { $0.run == o.run && $0.event == "batch.transition" && $0.to == "merged" }
            XCTAssertEqual(merges.compactMap(\.batch), [2, 1, 3], "\(o.run): merge order")
            let text = try sandbox.read(o.path)
            let items = try containerItems(text, key: o.output["key"] as? String, idField: "id", jsonl: o.run == "jl")
            XCTAssertEqual(items.map(\.id), (1...6).map { "i\($0)" }, "\(o.run): items in batch order:\n\(text)")
            for (item, k) in zip(items, 1...6) { XCTAssertEqual(item.value, Fixtures.item(k), "\(o.run) \(item.id)") }
            XCTAssertEqual(sandbox.list("mailbox/\(o.run)/accepted").filter { !$0.hasSuffix(".sha256") },
                           ["m_batch_1.json", "m_batch_2.json", "m_batch_3.json"])
        }
        let obj = try JSON.parse(sandbox.read("out/obj.json"))
        XCTAssertEqual(obj.keys, ["kind", "results", "z"], "the template's members are kept, in order")
        XCTAssertEqual(obj["z"], .array([.number(1), .number(2)]))
        XCTAssertEqual(try sandbox.read("out/jl.jsonl").split(separator: "\n").count, 6)
    }

    /// Agents spawned as the daemon starts write their batches in place in two steps; the
    /// first step alone is valid JSON Lines missing the batch's second item. Nothing may be
    /// validated before an agent closes its file: not even a file the daemon's start-up scan
    /// sees half written (eight agents start before that scan, so the first ones have begun).
    func testInPlaceWriteAtStartupIsNotValidatedHalfWritten() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "j", batchSize: 2, phases: [
            ["id": "p1", "output": ["file": "out/p1.jsonl", "strategy": "jsonl", "idField": "id"]],
        ])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 16)
        try sandbox.write("agent.sh", """
        exec 3>"$6"
        printf '{"id":"i%d","value":%d,"word":"w%d"}\\n' $4 $4 $4 >&3
        sleep 0.5
        printf '{"id":"i%d","value":%d,"word":"w%d"}\\n' $5 $5 $5 >&3
        exec 3>&-
        """)
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "j")
        }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let records = try EventLog.read(sandbox.eventLog)
        for b in 1...8 {
            let transitions = records.filter { $0.event == "batch.transition" && $0.batch == b }
                .map(\.step)
            XCTAssertEqual(transitions, ["1:pending>spawning", "1:spawning>running", "1:running>validating",
                                         "1:validating>merging", "1:merging>merged"],
                           "p1/\(b): validated half written (the start-up scan runs after the first agents were spawned)")
        }
        let lines = try sandbox.read("out/p1.jsonl").split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, (1...16).map { Fixtures.item($0).description })
    }

    /// A timed-out agent's shell dies on SIGTERM, but a grandchild that ignores SIGTERM lives
    /// on in its process group: the group must still get SIGKILL after the grace period.
    func testTimeoutKillsTheWholeProcessGroupOfTheAgent() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "t", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["timeoutSeconds": 1])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 2, agentBody: """
        if [ "$attempt" = 1 ]; then
          sh -c 'trap "" TERM; exec sleep 1000' &
          echo $! > e2e/gc.tmp && mv e2e/gc.tmp e2e/gc.pid
          sleep 1000
        fi
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        try waitForFile(sandbox.path("e2e/gc.pid"), deadline: .seconds(30))
        let gc = try XCTUnwrap(pid_t(sandbox.read("e2e/gc.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        let gcExit = try ProcessControl.openPIDFD(gc)
        defer { try? gcExit.close() }
        let term = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "the timeout's SIGTERM") {
            $0.isEvent("agent.signalled", phase: "p1", batch: 1) && $0.reason == "timeout"
        }
        XCTAssertEqual(ProcessControl.processGroup(of: gc), term.pid, "the grandchild is in the agent's group")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "t")
        }
        // The grace period is 0.3 s; the grandchild ignores SIGTERM and would sleep 1000 s: only
        // the group's SIGKILL ends it (30 s is for a loaded machine, not for the daemon).
        let gone = try !Poller.wait([gcExit.rawValue], timeoutMilliseconds: 30_000).isEmpty
        if !gone { _ = try? ProcessControl.signal(gc, SIGKILL) }
        XCTAssertTrue(gone, "the timed-out agent's grandchild (pid \(gc), group \(term.pid ?? 0)) still runs 30 s later")
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }
}
