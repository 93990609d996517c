import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem
import XCTest

/// The README's spawn templates for `claude`, `gemini` and `codex` in headless mode, each run with
/// a fake CLI that prints exactly the documented shape and writes the batch output; what they
/// print becomes `agent.usage` records, totals, a budget stop and failed attempts.
final class UsageTests: EndToEndTestCase {
    /// The README's templates, with the program replaced by the fake of the same name.
    static func claudeArgv(_ program: String) -> [String] {
        [program, "-p", "--output-format", "json", "--allowedTools", "Read,Write", "--permission-mode", "acceptEdits",
         "--max-budget-usd", "{budget_usd}"]
    }
    static func geminiArgv(_ program: String) -> [String] {
        [program, "-p", "Do the task given on standard input.", "--output-format", "json", "--yolo"]
    }
    static func codexArgv(_ program: String) -> [String] {
        [program, "exec", "--json", "--full-auto", "--skip-git-repo-check", "-"]
    }

    /// A fake CLI `bin/NAME`: it reads its prompt on stdin, knows its batch from the watcher's
    /// environment (batches of 2 items), and runs `body` with `$start`, `$end`, `$batch`,
    /// `$attempt`, `$out`; `lib.sh` gives it `object_batch` and `publish`.
    func installCLI(_ sandbox: Sandbox, _ name: String, body: String) throws -> String {
        try sandbox.write("bin/\(name)", """
        #!/bin/sh
        . ./lib.sh
        cat > /dev/null
        batch=$AGENT_WATCHER_BATCH attempt=$AGENT_WATCHER_ATTEMPT out=$AGENT_WATCHER_OUTPUT
        start=$(( (batch - 1) * 2 + 1 )); end=$(( start + 1 ))
        printf '%s\\n' "$@" > "e2e/args-$batch-$attempt"
        \(body)
        """)
        XCTAssertEqual(chmod(sandbox.path("bin/\(name)"), 0o755), 0)
        return "bin/\(name)"
    }

    func install(_ sandbox: Sandbox, run: String, items: Int, argv: [String], output: String,
                 overrides: [String: Any] = [:]) throws -> String {
        var o: [String: Any] = ["concurrency": 1, "agent": ["argv": argv, "prompt": "stdin", "output": output]]
        for (k, v) in overrides { o[k] = v }
        let spec = Fixtures.spec(run: run, batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")], overrides: o)
        try sandbox.write("e2e/.keep", "")
        return try Fixtures.install(in: sandbox, spec: spec, itemCount: items)
    }

    /// claude's `--output-format json` result: batch k costs $0.01 × k and 100 × k input tokens.
    static let claudeBody = #"""
    object_batch $start $end | publish "$out"
    echo "claude: working on batch $batch" >&2
    cost=$(printf '0.0%d' "$batch")
    printf '{"type":"result","subtype":"success","is_error":false,"duration_ms":1500,"duration_api_ms":1200,"num_turns":3,"result":"Done.","session_id":"sess-%d","total_cost_usd":%s,"usage":{"input_tokens":%d,"output_tokens":50,"cache_creation_input_tokens":10,"cache_read_input_tokens":400},"modelUsage":{"claude-sonnet-4-5":{"inputTokens":%d,"outputTokens":50,"cacheReadInputTokens":400,"cacheCreationInputTokens":10,"costUSD":%s}}}\n' "$batch" "$cost" $((batch * 100)) $((batch * 100)) "$cost"
    """#

    func testClaudeUsageIsLoggedPerAttemptAndStatusTotalsEqualTheSum() throws {
        let sandbox = try makeSandbox()
        let cli = try installCLI(sandbox, "claude", body: Self.claudeBody)
        let spec = try install(sandbox, run: "cl", items: 6, argv: Self.claudeArgv(cli), output: "claude-json",
                               overrides: ["budget": ["maxCostUSD": 3]])
        let daemon = try sandbox.start(["run", "--pipeline", spec, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: "cl") }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)

        let usage = try EventLog.read(sandbox.eventLog).filter { $0.event == "agent.usage" }
        XCTAssertEqual(usage.map { $0.batch ?? 0 }, [1, 2, 3])
        let total = usage.compactMap { $0["cost_usd"]?.double }.reduce(0, +)
        XCTAssertEqual(total, 0.06, accuracy: 1e-9)
        XCTAssertEqual(usage.compactMap { $0["input_tokens"]?.int }, [100, 200, 300])
        XCTAssertEqual(usage.first?["session_id"]?.string, "sess-1")
        XCTAssertEqual(usage.first?["verdict"]?.string, "success")
        XCTAssertEqual(usage.first?["estimated"], .bool(false))

        let status = try sandbox.run(["status", "--root", sandbox.root])
        XCTAssertEqual(status.exitCode, 0, status.stderr)
        // 600 input + 3 × (50 output + 400 cache read + 10 cache write) = 1980 tokens.
        XCTAssertTrue(status.stdout.contains("cost: $0.06, 1980 tokens (input 600, output 150, cache read 1200, cache write 30), 3 attempt(s)"),
                      status.stdout)
        XCTAssertTrue(status.stdout.contains("$0.01 per merged item"), status.stdout)
        let list = try sandbox.run(["list", "--root", sandbox.root])
        XCTAssertTrue(list.stdout.contains("cost $0.06  projected $0.06"), list.stdout)
        let show = try sandbox.run(["show", "cl", "p1", "2", "--root", sandbox.root])
        XCTAssertTrue(show.stdout.contains("usage: $0.02, input 200, output 50, cache read 400, cache write 10, models claude-sonnet-4-5, api 1200 ms, 3 turn(s), session sess-2, verdict success"),
                      show.stdout)
        // The same figures in the JSON outputs.
        let statusJSON = try JSON.parse(try sandbox.run(["status", "--json", "--root", sandbox.root]).stdout)
        XCTAssertEqual(statusJSON["runs"]?[0]?["cost"]?["tokens"]?.int, 1980)
        let showJSON = try JSON.parse(try sandbox.run(["show", "cl", "p1", "2", "--json", "--root", sandbox.root]).stdout)
        XCTAssertEqual(showJSON["attemptDetails"]?[0]?["usage"]?["session_id"]?.string, "sess-2")
        XCTAssertEqual(showJSON["attemptDetails"]?[0]?["usage"]?["output_tokens"]?.int, 50)
        // stdout and stderr are kept apart.
        XCTAssertTrue(try sandbox.read("logs/agents/cl/p1-1-1.stdout").hasPrefix(#"{"type":"result""#))
        XCTAssertEqual(try sandbox.read("logs/agents/cl/p1-1-1.log"), "claude: working on batch 1\n")
        // {budget_usd}: $3 over 3 batches left, then $2.99 over 2.
        XCTAssertEqual(try sandbox.read("e2e/args-1-1").split(separator: "\n").last, "1.00")
        XCTAssertEqual(try sandbox.read("e2e/args-2-1").split(separator: "\n").last, "1.495")
    }

    func testABudgetReachedPausesTheRunAtTheRightBatchAndResumeForceGoesOn() throws {
        let sandbox = try makeSandbox()
        let cli = try installCLI(sandbox, "claude", body: #"""
        object_batch $start $end | publish "$out"
        printf '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"s","total_cost_usd":1.0,"usage":{"input_tokens":1000,"output_tokens":100}}\n'
        """#)
        let spec = try install(sandbox, run: "bud", items: 8, argv: Self.claudeArgv(cli), output: "claude-json",
                               overrides: ["budget": ["maxCostUSD": 2.5]])
        let daemon = try sandbox.start(["run", "--pipeline", spec, "--root", sandbox.root])
        let paused = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.paused") {
            $0.isEvent("run.paused", run: "bud")
        }
        XCTAssertEqual(paused.reason, "budget_reached")
        XCTAssertEqual(paused["spent"]?.double, 3)
        XCTAssertEqual(paused["max"]?.double, 2.5)
        var records = try EventLog.read(sandbox.eventLog)
        // $1 a batch, $2.5: batches 1-3 start (each with less than $2.5 spent), batch 4 does not.
        XCTAssertEqual(records.filter { $0.event == "batch.transition" && $0.to == "spawning" }.map { $0.batch ?? 0 }, [1, 2, 3])
        let status = try sandbox.run(["status", "--root", sandbox.root])
        XCTAssertTrue(status.stdout.contains("PAUSED (budget_reached)"), status.stdout)
        XCTAssertTrue(status.stdout.contains("projected total: $4.00 = spent $3.00 + 1 batch left × $1.00"), status.stdout)

        let resume = try sandbox.run(["resume", "bud", "--force", "--root", sandbox.root])
        XCTAssertEqual(resume.exitCode, 0, resume.stderr + resume.stdout)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: "bud") }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        records = try EventLog.read(sandbox.eventLog)
        XCTAssertEqual(records.filter { $0.event == "agent.usage" }.count, 4)
    }

    /// Runs a one-batch run whose attempt 1 fails to the end; its log, and attempt 1's failure
    /// (checked to be an `agent_crashed` one).
    func runFailingOnce(_ sandbox: Sandbox, spec: String, run: String) throws -> ([LogRecord], LogRecord) {
        let daemon = try sandbox.start(["run", "--pipeline", spec, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: run) }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let records = try EventLog.read(sandbox.eventLog)
        let failed = try XCTUnwrap(records.first { $0.isTransition(phase: "p1", batch: 1, from: "running", to: "retry_wait") })
        XCTAssertEqual(failed["class"]?.string, "agent_crashed", failed.line)
        XCTAssertTrue(records.contains { $0.isTransition(phase: "p1", batch: 1, to: "merged", attempt: 2) })
        return (records, failed)
    }

    func testRaisingTheBudgetAndReloadingLetsThePausedRunGoOn() throws {
        let sandbox = try makeSandbox()
        let cli = try installCLI(sandbox, "claude", body: #"""
        object_batch $start $end | publish "$out"
        printf '{"type":"result","subtype":"success","is_error":false,"session_id":"s","total_cost_usd":1.0,"usage":{"input_tokens":10,"output_tokens":1}}\n'
        """#)
        let spec = try install(sandbox, run: "rb", items: 6, argv: Self.claudeArgv(cli), output: "claude-json",
                               overrides: ["budget": ["maxCostUSD": 1]])
        let daemon = try sandbox.start(["run", "--pipeline", spec, "--root", sandbox.root])
        let paused = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.paused") {
            $0.isEvent("run.paused", run: "rb")
        }
        XCTAssertEqual(paused.reason, "budget_reached")
        _ = try install(sandbox, run: "rb", items: 6, argv: Self.claudeArgv(cli), output: "claude-json",
                        overrides: ["budget": ["maxCostUSD": 10]])
        try daemon.signal(SIGHUP)
        let resumed = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.resumed") {
            $0.isEvent("run.resumed", run: "rb")
        }
        XCTAssertEqual(resumed.reason, "budget_available")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: "rb") }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let records = try EventLog.read(sandbox.eventLog)
        XCTAssertEqual(records.filter { $0.event == "agent.usage" }.count, 3)
        XCTAssertTrue(records.contains { $0.event == "spec.changed" && $0.line.contains("budget.maxCostUSD: 1 -> 10") },
                      records.filter { $0.event == "spec.changed" }.map(\.line).joined(separator: "\n"))
    }

    func testGeminiExit53IsAFailedAttemptAndItsTokensArePriced() throws {
        let sandbox = try makeSandbox()
        let cli = try installCLI(sandbox, "gemini", body: #"""
        stats='"stats":{"models":{"gemini-2.5-pro":{"api":{"totalRequests":2,"totalErrors":0,"totalLatencyMs":900},"tokens":{"prompt":3000,"candidates":500,"total":3500,"cached":2000,"thoughts":0,"tool":0}}}}'
        if [ "$attempt" = 1 ]; then
          printf '{"response":"I ran out of turns.",%s}\n' "$stats"; exit 53
        fi
        object_batch $start $end | publish "$out"
        printf '{"response":"Done.",%s}\n' "$stats"
        """#)
        let spec = try install(sandbox, run: "gm", items: 2, argv: Self.geminiArgv(cli), output: "gemini-json",
                               overrides: ["prices": ["gemini-2.5-pro": ["input": 1.25, "output": 10, "cacheRead": 0.25]]])
        let (records, failed) = try runFailingOnce(sandbox, spec: spec, run: "gm")
        XCTAssertEqual(failed.attempt, 1)
        let usage = records.filter { $0.event == "agent.usage" }
        XCTAssertEqual(usage.map { $0["verdict"]?.string ?? "" }, ["exit 53", "success"])
        // (1000 × 1.25 + 500 × 10 + 2000 × 0.25) / 1e6
        XCTAssertEqual(usage.first?["cost_usd"]?.double ?? 0, 0.00675, accuracy: 1e-12)
        XCTAssertEqual(usage.first?["estimated"], .bool(true))
        XCTAssertTrue(records.contains { $0.isTransition(phase: "p1", batch: 1, to: "merged", attempt: 2) })
    }

    func testCodexTurnFailedIsAFailedAttemptWhateverItsExitStatus() throws {
        let sandbox = try makeSandbox()
        let cli = try installCLI(sandbox, "codex", body: #"""
        printf '{"type":"thread.started","thread_id":"th-%d"}\n{"type":"turn.started"}\n' "$attempt"
        if [ "$attempt" = 1 ]; then
          printf '{"type":"turn.failed","error":{"message":"the model stopped"}}\n'; exit 0
        fi
        object_batch $start $end | publish "$out"
        printf '{"type":"turn.completed","usage":{"input_tokens":1200,"cached_input_tokens":1000,"output_tokens":300}}\n'
        """#)
        let spec = try install(sandbox, run: "cx", items: 2, argv: Self.codexArgv(cli), output: "codex-jsonl")
        let (records, failed) = try runFailingOnce(sandbox, spec: spec, run: "cx")
        XCTAssertEqual(failed["verdict"]?.string, "turn.failed")
        let usage = records.filter { $0.event == "agent.usage" }
        XCTAssertEqual(usage.map { $0["session_id"]?.string ?? "" }, ["th-1", "th-2"])
        XCTAssertEqual(usage.last?["input_tokens"]?.int, 200)
        XCTAssertEqual(usage.last?["cache_read_tokens"]?.int, 1000)
        XCTAssertTrue(records.contains { $0.isTransition(phase: "p1", batch: 1, to: "merged", attempt: 2) })
    }
}
