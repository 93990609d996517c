import Foundation
import XCTest

/// `agent-watcher demo`: the built-in three-phase course pipeline with simulated agents.
/// The real course data has defects the validator catches: phase 3 batch 1 (a misspelt
/// word in S0003) and phase 5 batches 2-5 (empty practice baskets) fail on every attempt,
/// and phase 5 batch 1 is blocked behind phase 3 batch 1. Everything else merges.
final class DemoTests: EndToEndTestCase {
    func testDemoMergesTheCourseDataLogsEveryStepAndReportsIt() throws {
        let sandbox = try makeSandbox()
        let root = sandbox.root
        let demo = try sandbox.run(["demo", "--root", root, "--quiet"], within: 90)
        XCTAssertEqual(demo.exitCode, 0, "demo failed: \(demo.stderr)")
        XCTAssertTrue(demo.stdout.contains("Demo finished"), demo.stdout)
        XCTAssertFalse(demo.stdout.contains("→"), "--quiet prints no transitions:\n\(demo.stdout)")

        // The log: every line well formed.
        try assertWellFormedLog(sandbox.eventLog)
        let records = try EventLog.read(sandbox.eventLog)

        // Known outcome of the course data.
        let states = finalStates(records, run: "spa_for_eng")
        var expected: [String: String] = [:]
        for phase in ["1", "3", "5"] { for b in 1...5 { expected["\(phase)/\(b)"] = "merged" } }
        expected["3/1"] = "failed"
        for b in 2...5 { expected["5/\(b)"] = "failed" }
        expected["5/1"] = "blocked"
        XCTAssertEqual(states, expected)

        // What a person looks for in the log.
        XCTAssertTrue(records.contains { $0.event == "batch.transition" && $0.to == "retry_wait" }, "a retry")
        XCTAssertTrue(records.contains { $0.event == "batch.transition" && $0.to == "failed" }, "a failure")
        XCTAssertTrue(records.contains { $0.event == "agent.signalled" && $0.reason == "timeout" }, "a timed-out agent")
        XCTAssertTrue(records.contains { $0.event == "batch.transition" && $0.to == "retry_wait" && $0.reason == "timeout" },
                      "a timeout fails its attempt")
        XCTAssertEqual(records.filter { $0.event == "run.completed" }.count, 1)
        let completed = try XCTUnwrap(records.last { $0.event == "run.completed" })
        XCTAssertEqual(completed["merged"]?.int, 9)
        XCTAssertEqual(completed["failed"]?.int, 5)
        XCTAssertEqual(completed["blocked"]?.int, 1)
        XCTAssertEqual(records.last?.event, "watcher.stopped")
        // A failed batch's attempts are kept in rejected/ with their errors.
        XCTAssertTrue(sandbox.exists("mailbox/spa_for_eng/rejected/3_batch_1.attempt-3.json"))
        let errors = try JSON.parse(sandbox.read("mailbox/spa_for_eng/rejected/3_batch_1.attempt-3.errors.json"))
        XCTAssertEqual(errors["valid"], .bool(false))
        XCTAssertEqual(errors["failedItems"]?.strings, ["S0003"])

        // Prompts carry what a fresh session needs: phase 3 reads phase 1's object-keyed items with
        // their seed ids, and a retry names the previous attempt's file in rejected/ (or says it left none).
        let prompts = "logs/agents/spa_for_eng/"
        let phase3 = try sandbox.read(prompts + "3-1-1.prompt.md")
        XCTAssertTrue(phase3.contains(#""S0001": {"#), phase3)
        XCTAssertTrue(phase3.contains(#"as one JSON file: {"seeds": [ {...,"seed_id": ...}, ... ]}"#), phase3)
        var namedFiles = 0
        for attempt in 2...3 {
            let prompt = try sandbox.read(prompts + "3-1-\(attempt).prompt.md")
            let previous = "mailbox/spa_for_eng/rejected/3_batch_1.attempt-\(attempt - 1).json"
            if sandbox.exists(previous) {
                namedFiles += 1
                XCTAssertTrue(prompt.contains("Start from the previous attempt's file at \(sandbox.path(previous)): "), prompt)
                XCTAssertTrue(prompt.contains("Failed items: S0003.\nPassed items: S0001, S0002, S0004,"), prompt)
            } else {
                XCTAssertTrue(prompt.contains("Attempt \(attempt - 1) left no file"), prompt)
            }
        }
        XCTAssertGreaterThan(namedFiles, 0, "a retry prompt names a rejected file")

        // Every merged item equals the answer key's item of the same id, in course order.
        let spec = try JSON.parse(sandbox.read("pipeline.json"))
        for phase in try XCTUnwrap(spec["phases"]?.array) {
            let id = try XCTUnwrap(phase["id"]?.string)
            let output = try XCTUnwrap(phase["output"])
            let key = output["key"]?.string
            let idField = output["idField"]?.string
            let mergedItems = records.filter { $0.isTransition(phase: id, batch: $0.batch ?? 0, to: "merged") }
                .compactMap { $0["items"]?.int }.reduce(0, +)
            let mainPath = try XCTUnwrap(output["file"]?.string)
            guard sandbox.exists(mainPath) else {
                XCTAssertEqual(mergedItems, 0, "phase \(id): items merged but no \(mainPath)")
                continue
            }
            let mainText = try sandbox.read(mainPath)
            let main = try containerItems(mainText, key: key, idField: idField)
            let answers = try containerItems(sandbox.read("answers/phase-\(id).json"), key: key, idField: idField)
            let position = Dictionary(answers.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(main.count, mergedItems, "phase \(id): the main file holds what the log says was merged")
            XCTAssertEqual(Set(main.map(\.id)).count, main.count, "phase \(id): no item twice")
            var last = -1
            for item in main {
                guard let p = position[item.id] else { XCTFail("phase \(id): \(item.id) is not in the answer key"); continue }
                XCTAssertTrue(item.value.sameValue(as: answers[p].value), "phase \(id): \(item.id) differs from the answer key")
                XCTAssertGreaterThan(p, last, "phase \(id): \(item.id) is out of course order")
                last = p
            }
            // The rest of the template is kept, in its order.
            if let template = output["template"] {
                let top = try JSON.parse(mainText)
                XCTAssertEqual(top.keys, template.keys, "phase \(id): top-level members of \(mainPath)")
                for m in template.members ?? [] where m.key != key {
                    XCTAssertEqual(top[m.key], m.value, "phase \(id): template member \(m.key)")
                }
            }
        }
        XCTAssertEqual(try containerItems(sandbox.read("output/seed_pairs.json"), key: "translations", idField: nil).count, 100)
        XCTAssertEqual(try containerItems(sandbox.read("output/lego_pairs.json"), key: "seeds", idField: "seed_id").count, 80)

        // status: the table, with the counts the log gives.
        let status = try sandbox.run(["status", "--root", root])
        XCTAssertEqual(status.exitCode, 0, status.stderr)
        let lines = status.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("daemon: not running"), status.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("run spa_for_eng") && $0.contains("completed") }, status.stdout)
        let header = try XCTUnwrap(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix("phase") }, status.stdout)
        XCTAssertEqual(lines[header].split(separator: " "),
                       ["phase", "merged", "running", "interrupted", "retrying", "failed", "blocked", "pending", "total"])
        var rows: [String: [Int]] = [:]
        for row in lines[(header + 1)...] {
            let cols = row.split(separator: " ").map(String.init)
            guard cols.count >= 9 else { continue }
            rows[cols[0]] = cols[1...8].compactMap { Int($0) }
        }
        for phase in ["1", "3", "5"] {
            let mine = states.filter { $0.key.hasPrefix(phase + "/") }.map(\.value)
            let count = { (s: String) in mine.filter { $0 == s }.count }
            XCTAssertEqual(rows[phase], [count("merged"), 0, 0, 0, count("failed"), count("blocked"), 0, 5], "status row of phase \(phase)")
        }

        // tail --json: exactly the log's lines; tail: one readable line per record.
        let tailJSON = try sandbox.run(["tail", "--root", root, "--json"])
        XCTAssertEqual(tailJSON.exitCode, 0, tailJSON.stderr)
        XCTAssertEqual(tailJSON.stdout, try sandbox.read(sandbox.eventLog))
        let tail = try sandbox.run(["tail", "--root", root])
        XCTAssertEqual(tail.exitCode, 0, tail.stderr)
        XCTAssertEqual(tail.stdout.split(separator: "\n").count, records.count)
        XCTAssertTrue(tail.stdout.contains("run.completed"), tail.stdout)
        let tailRun = try sandbox.run(["tail", "--root", root, "--json", "--run", "spa_for_eng"])
        XCTAssertEqual(tailRun.stdout.split(separator: "\n").map(String.init), records.filter { $0.run == "spa_for_eng" }.map(\.line))
    }
}
