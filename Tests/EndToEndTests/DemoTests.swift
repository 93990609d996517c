import Foundation
import XCTest

/// `agent-watcher demo`: the built-in three-phase course pipeline with simulated agents.
/// The real course data has defects the validator catches: phase 3 batch 1 (a misspelt
/// word in S0003) and phase 5 batches 2-5 (empty practice baskets). The simulated agent repairs
/// what the errors in its retry prompt name, so those merge after a retry; the one batch that
/// fails for good is the seeded flaw (phase 3 batch 2 + seed mod 4: batch 4 for the default seed
/// 42), and its phase-5 batch is blocked.
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
        expected["3/4"] = "failed"
        expected["5/4"] = "blocked"
        XCTAssertEqual(states, expected)
        XCTAssertTrue(demo.stdout.contains("13 of 15 batches merged"), demo.stdout)
        XCTAssertTrue(demo.stdout.contains("1 failed (phase 3 batch 4), 1 blocked (phase 5 batch 4)"), demo.stdout)
        XCTAssertTrue(demo.stdout.contains("S0003 added LEGO S0003L04 (frecuentamente = often/frequently)"), demo.stdout)
        XCTAssertFalse(demo.stdout.contains("DIFFER"), demo.stdout)
        // The reviewer: phase-3 agents asked it with send --wait; batch 1's thread reached the turn limit.
        XCTAssertTrue(demo.stdout.contains("  Threads: 3 with the reviewer (asked with send --wait by phase-3 agents), 4 turns answered, 0 failed, 1 stuck (review-3-1: turn limit reached; see \(root)/logs/stuck/review-3-1.md)"),
                      demo.stdout)
        XCTAssertTrue(sandbox.exists("logs/stuck/review-3-1.md"))

        // What a person looks for in the log.
        XCTAssertTrue(records.contains { $0.event == "batch.transition" && $0.to == "retry_wait" }, "a retry")
        XCTAssertTrue(records.contains { $0.event == "batch.transition" && $0.to == "failed" }, "a failure")
        XCTAssertTrue(records.contains { $0.event == "agent.signalled" && $0.reason == "timeout" }, "a timed-out agent")
        XCTAssertTrue(records.contains { $0.event == "batch.transition" && $0.to == "retry_wait" && $0.reason == "timeout" },
                      "a timeout fails its attempt")
        XCTAssertEqual(records.filter { $0.event == "run.completed" }.count, 1)
        let completed = try XCTUnwrap(records.last { $0.event == "run.completed" })
        XCTAssertEqual(completed["merged"]?.int, 13)
        XCTAssertEqual(completed["failed"]?.int, 1)
        XCTAssertEqual(completed["blocked"]?.int, 1)
        // One count of retries: the summary's is the log's `retry_wait → spawning` transitions.
        let retries = records.filter { $0.event == "batch.transition" && $0.from == "retry_wait" && $0.to == "spawning" }.count
        XCTAssertGreaterThan(retries, 0)
        XCTAssertTrue(demo.stdout.contains(" \(retries) retries ("), "retries \(retries):\n\(demo.stdout)")
        XCTAssertEqual(records.last?.event, "watcher.stopped")
        // The seeded flaw fails every attempt; its attempts are kept in rejected/ with their errors.
        for attempt in 1...3 {
            XCTAssertTrue(sandbox.exists("mailbox/spa_for_eng/rejected/3_batch_4.attempt-\(attempt).json"), "attempt \(attempt)")
            let errors = try JSON.parse(sandbox.read("mailbox/spa_for_eng/rejected/3_batch_4.attempt-\(attempt).errors.json"))
            XCTAssertEqual(errors["valid"], .bool(false))
            XCTAssertEqual(errors["failedItems"]?.strings?.count, 1, "one broken item")
        }
        // S0003's defect was named in a rejected attempt of phase 3 batch 1, which then merged.
        let named = try (1...2).filter { sandbox.exists("mailbox/spa_for_eng/rejected/3_batch_1.attempt-\($0).errors.json") }
            .map { try JSON.parse(sandbox.read("mailbox/spa_for_eng/rejected/3_batch_1.attempt-\($0).errors.json")) }
        XCTAssertTrue(named.contains { $0["failedItems"]?.strings == ["S0003"] }, "S0003's uncovered word was reported")

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

        // Every merged item equals the answer key's item of the same id, in course order, or the
        // answer key's item plus the repair its errors called for: S0003 gets one LEGO covering
        // "frecuentamente", its new LEGO gets a basket, and every empty basket one phrase made of
        // its LEGO's own known/target.
        let s0003Lego: JSON = try JSON.parse(#"{"id": "S0003L04", "type": "A", "new": true, "lego": {"known": "often/frequently", "target": "frecuentamente"}}"#)
        func repaired(_ phase: String, _ id: String, course: JSON?) throws -> JSON? {
            switch (phase, id) {
            case ("3", "S0003"):
                guard let course, let legos = course["legos"]?.array else { return nil }
                return .object(course.members!.map { $0.key == "legos" ? .init(key: "legos", value: .array(legos + [s0003Lego])) : $0 })
            case ("5", "S0003L04") where course == nil:
                return try JSON.parse(#"{"lego": {"known": "often/frequently", "target": "frecuentamente"}, "is_final_lego": false, "practice_phrases": [{"known": "often/frequently", "target": "frecuentamente"}], "phrase_count": 1}"#)
            case ("5", _):
                guard let course, course["practice_phrases"]?.array?.isEmpty != false,
                      let known = course["lego"]?["known"], let target = course["lego"]?["target"] else { return nil }
                var members = course.members!.filter { $0.key != "practice_phrases" && $0.key != "phrase_count" }
                members.append(.init(key: "practice_phrases", value: .array([.object([.init(key: "known", value: known), .init(key: "target", value: target)])])))
                members.append(.init(key: "phrase_count", value: .number(1)))
                return .object(members)
            default:
                return nil
            }
        }
        var repairedIDs: [String: [String]] = [:]
        let spec = try JSON.parse(sandbox.read("pipeline.json"))
        for phase in try XCTUnwrap(spec["phases"]?.array) {
            let id = try XCTUnwrap(phase["id"]?.string)
            let output = try XCTUnwrap(phase["output"])
            let key = output["key"]?.string
            let idField = output["idField"]?.string
            let mergedItems = records.filter { $0.isTransition(phase: id, batch: $0.batch ?? 0, to: "merged") }
                .compactMap { $0["items"]?.int }.reduce(0, +)
            let mainPath = try XCTUnwrap(output["file"]?.string)
            XCTAssertGreaterThan(mergedItems, 0, "phase \(id) merged items")
            XCTAssertTrue(sandbox.exists(mainPath), "phase \(id): \(mainPath)")
            guard sandbox.exists(mainPath) else { continue }
            let mainText = try sandbox.read(mainPath)
            let main = try containerItems(mainText, key: key, idField: idField)
            let answers = try containerItems(sandbox.read("answers/phase-\(id).json"), key: key, idField: idField)
            let position = Dictionary(answers.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(main.count, mergedItems, "phase \(id): the main file holds what the log says was merged")
            XCTAssertEqual(Set(main.map(\.id)).count, main.count, "phase \(id): no item twice")
            var last = -1
            for item in main {
                let course = position[item.id].map { answers[$0].value }
                if let course, item.value.sameValue(as: course) {
                    // as the course has it
                } else if let want = try repaired(id, item.id, course: course) {
                    XCTAssertTrue(item.value.sameValue(as: want), "phase \(id): \(item.id) is not the repaired course item: \(item.value)")
                    repairedIDs[id, default: []].append(item.id)
                } else {
                    XCTFail("phase \(id): \(item.id) differs from the answer key and is no repair")
                }
                if id == "5" { XCTAssertEqual(item.value["practice_phrases"]?.array?.isEmpty, false, "basket \(item.id) has a phrase") }
                guard let p = position[item.id] else { continue }
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
        XCTAssertEqual(repairedIDs["1"], nil, "phase 1 needs no repair")
        XCTAssertEqual(repairedIDs["3"], ["S0003"])
        // The 24 empty baskets, less the 2 of the blocked batch 5/4 (S0080L02, S0080L03), plus S0003L04's.
        XCTAssertEqual(repairedIDs["5"]?.count, 23, "\(repairedIDs["5"] ?? [])")
        XCTAssertTrue(repairedIDs["5"]?.contains("S0003L04") == true)
        XCTAssertTrue(repairedIDs["5"]?.contains("S0034L02") == true)
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

    /// The stream explains itself: a legend, reasons in words, no doubled quotes, every
    /// `superseded` explained, one retry line per retry; another seed dooms another batch.
    func testDemoStreamExplainsItselfAndTheSeedChoosesTheDoomedBatch() throws {
        let sandbox = try makeSandbox()
        let demo = try sandbox.run(["demo", "--root", sandbox.root, "--seed", "7"], within: 90)
        XCTAssertEqual(demo.exitCode, 0, "demo failed: \(demo.stderr)")
        let lines = demo.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("Legend: ") && $0.contains("#") && $0.contains("→") }, demo.stdout)
        XCTAssertFalse(demo.stdout.contains("\"\""), "no doubled quotes:\n\(demo.stdout)")
        let superseded = lines.filter { $0.contains("(superseded") }
        XCTAssertTrue(superseded.allSatisfy { $0.contains("superseded: its output was already judged invalid") }, "\(superseded)")
        for line in lines where line.contains("validating → retry_wait") {
            XCTAssertTrue(line.contains("validation_failed: the output broke the phase's rules") || line.contains("output_unreadable:"), line)
        }
        let retryLines = lines.filter { !$0.hasPrefix("Legend") && $0.contains("retry_wait → spawning") }.count
        XCTAssertGreaterThan(retryLines, 0)
        XCTAssertTrue(demo.stdout.contains(" \(retryLines) retries ("), "retry lines \(retryLines):\n\(demo.stdout)")
        // Seed 7 dooms phase 3 batch 2 + 7 mod 4 = 5.
        let states = finalStates(try EventLog.read(sandbox.eventLog), run: "spa_for_eng")
        XCTAssertEqual(states.filter { $0.value == "failed" }.keys.sorted(), ["3/5"])
        XCTAssertEqual(states.filter { $0.value == "blocked" }.keys.sorted(), ["5/5"])
        XCTAssertEqual(states.filter { $0.value == "merged" }.count, 13)
        XCTAssertTrue(demo.stdout.contains("S0003 added LEGO S0003L04"), demo.stdout)
    }
}
