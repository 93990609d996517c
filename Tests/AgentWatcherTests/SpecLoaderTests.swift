import Foundation
import Testing
@testable import AgentWatcher
import WatcherCore
import WatcherSystem

private let path = "/specs/pipeline.json"

private let minimal = """
{"run": "r", "items": {"file": "seeds.json", "key": "seeds", "idField": "id"},
 "agent": {"argv": ["claude", "-p"]},
 "phases": [{"id": "1", "output": {"file": "out/1.json", "strategy": "object", "key": "t"}}]}
"""

/// The problems SpecLoader reports for `text`, or [] if it loads.
private func problems(_ text: String) -> [String] {
    do {
        _ = try SpecLoader.parse(Array(text.utf8), path: path)
        return []
    } catch let e as SpecError {
        #expect(e.path == path)
        #expect(e.description.split(separator: "\n").allSatisfy { $0.hasPrefix(path + ": ") }, "every line names the file")
        return e.problems.map(\.summary)
    } catch {
        Issue.record("not a SpecError: \(error)")
        return ["?"]
    }
}

@Suite struct SpecLoaderTests {
    @Test func aMinimalSpecLoadsWithDefaults() throws {
        let spec = try SpecLoader.parse(Array(minimal.utf8), path: path)
        #expect(spec.run == "r")
        #expect(spec.batchSize == 20 && spec.concurrency == 2 && spec.maxAttempts == 3)
        #expect(spec.agent?.argv == ["claude", "-p"])
        #expect(spec.agent?.prompt == nil)
        #expect(spec.agent(for: spec.phases[0])?.prompt == .stdin)
        #expect(spec.phases.map(\.id) == ["1"])
        #expect(spec.phases[0].output.strategy == .object)
    }

    @Test(arguments: [
        (#"{"items": {"file": "s"}, "phases": []}"#, "run: missing; this key is required"),
        (#"{"run": "r", "phases": []}"#, "items: missing; this key is required"),
        (#"{"run": "r", "items": {}, "phases": []}"#, "items.file: missing; this key is required"),
        (#"{"run": "r", "items": {"file": "s"}}"#, "phases: missing; this key is required"),
        (#"{"run": "r", "items": {"file": "s"}, "phases": [{"id": "1"}]}"#, "phases[0].output: missing; this key is required"),
        (#"{"run": "r", "items": {"file": "s"}, "phases": [{"id": "1", "output": {"strategy": "object"}}]}"#,
         "phases[0].output.file: missing; this key is required"),
        (#"{"run": "r", "items": {"file": "s"}, "phases": [{"output": {"file": "o", "strategy": "object"}}]}"#,
         "phases[0].id: missing; this key is required"),
        (#"{"run": 5, "items": {"file": "s"}, "phases": []}"#, "run: expected a string, got a number"),
        (#"{"run": "r", "batchSize": "20", "items": {"file": "s"}, "phases": []}"#, "batchSize: expected a whole number, got a string"),
        (#"{"run": "r", "timeoutSeconds": "x", "items": {"file": "s"}, "phases": []}"#, "timeoutSeconds: expected a number, got a string"),
        (#"{"run": "r", "items": {"file": 3}, "phases": []}"#, "items.file: expected a string, got a number"),
        (#"{"run": "r", "items": {"file": "s"}, "phases": {}}"#, "phases: expected an array, got an object"),
        (#"{"run": "r", "items": {"file": "s"}, "agent": {"argv": "claude -p"}, "phases": []}"#, "agent.argv: expected an array, got a string"),
        (#"{"run": "r", "items": {"file": "s"}, "backoff": {"maxSeconds": true}, "phases": []}"#, "backoff.maxSeconds: expected a number, got a boolean"),
        (#"{"run": null, "items": {"file": "s"}, "phases": []}"#, "run: expected a string, found null"),
    ])
    func wrongShapesNameTheKey(text: String, expected: String) {
        // Every problem is reported, so a spec that is also missing an agent or phases says so too.
        #expect(problems(text).first == expected, "\(problems(text))")
    }

    @Test func anUnknownStrategyNamesItsKey() {
        let p = problems(#"{"run": "r", "items": {"file": "s"}, "agent": {"argv": ["a"]}, "phases": [{"id": "1", "output": {"file": "o", "strategy": "tree"}}]}"#)
        #expect(p.count == 1, "\(p)")
        #expect(p.first?.hasPrefix("phases[0].output.strategy: ") == true)
        #expect(p.first?.contains("tree") == true)
    }

    @Test(arguments: [
        (#"{"run": "r", "batchSize": 2.5, "items": {"file": "s"}, "phases": []}"#, "batchSize: expected a whole number, got 2.5"),
        (#"{"run": "r", "concurrency": 1e30, "items": {"file": "s"}, "phases": []}"#, "concurrency: expected a whole number, got 1e+30"),
        (#"{"run": "r", "items": {"file": "s"}, "phases": [{"id": "1", "maxAttempts": 0.5, "output": {"file": "o", "strategy": "object"}}]}"#,
         "phases[0].maxAttempts: expected a whole number, got 0.5"),
    ])
    func aFractionWhereAWholeNumberBelongsNamesItsKey(text: String, expected: String) {
        #expect(problems(text).first == expected, "\(problems(text))")
    }

    @Test func wholeNumbersWrittenWithAFractionOrExponentAreFine() throws {
        let text = #"{"run": "r", "batchSize": 20.0, "concurrency": 2e0, "items": {"file": "s"}, "agent": {"argv": ["a"]}, "phases": [{"id": "1", "output": {"file": "o", "strategy": "object"}}]}"#
        let spec = try SpecLoader.parse(Array(text.utf8), path: path)
        #expect(spec.batchSize == 20 && spec.concurrency == 2)
    }

    @Test(arguments: [
        ("{\"run\": \"r\",\n  \"items\": }", "line 2, column 12"),
        ("{\"run\": \"r\",}", "line 1, column 13"),
        ("", "line 1, column 1"),
        ("{\"run\": \"r\"\n\n  \"x\": 1}", "line 3, column 3"),
    ])
    func invalidJSONGivesLineAndColumn(text: String, position: String) {
        let p = problems(text)
        #expect(p.count == 1)
        #expect(p.first?.hasPrefix("not valid JSON: \(position): ") == true, "\(p)")
    }

    @Test func problemsBeyondTheShapeAreAllReported() {
        let text = """
        {"run": "r/x", "batchSize": 0, "items": {"file": "s"}, "agent": {"argv": ["a"]},
         "phases": [{"id": "1", "output": {"file": "o", "strategy": "object"}},
                    {"id": "3", "output": {"file": "p", "strategy": "array", "key": "seeds"}, "rules": "nope"}]}
        """
        #expect(problems(text) == [
            #"run: expected a plain name, got "r/x": it contains '/'; use ASCII letters, digits, '-', '_' and '.', starting with a letter or digit, at most 64 bytes"#,
            "batchSize: expected a whole number ≥ 1, got 0",
            "phases[1].output.idField: the array strategy needs the member that holds each item's id",
        ], "an unknown rules name is the RunContext's to refuse, against the daemon's RuleRegistry")
    }

    @Test func templatesKeepTheSpecFilesMemberOrder() throws {
        let text = """
        {"run": "r", "items": {"file": "s"}, "agent": {"argv": ["a"]},
         "phases": [
           {"id": "1", "output": {"file": "o", "strategy": "object", "key": "translations",
             "template": {"version": "7.7.0", "course": "c", "zeta": [3, 1.5, null, true], "alpha": {"b": 1, "a": "x"},
                          "translations": {}}}},
           {"id": "2", "output": {"file": "p", "strategy": "object"}}]}
        """
        let spec = try SpecLoader.parse(Array(text.utf8), path: path)
        let template = try #require(spec.phases[0].output.template)
        #expect(String(decoding: template.text, as: UTF8.self)
            == #"{"version":"7.7.0","course":"c","zeta":[3,1.5,null,true],"alpha":{"b":1,"a":"x"},"translations":{}}"#)
        #expect(spec.phases[1].output.template == nil)
    }

    @Test func loadNamesAFileThatCannotBeRead() throws {
        try withTemporaryFolder { dir in
            let missing = dir + "/nope.json"
            do {
                _ = try SpecLoader.load(missing)
                Issue.record("loaded a missing file")
            } catch let e as SpecError {
                #expect(e.path == missing)
                #expect(e.problems.first?.summary.hasPrefix("cannot read the pipeline spec: ") == true)
                #expect(e.description.hasPrefix(missing + ": cannot read"))
            }
        }
    }

    @Test func loadReadsASpecFromDisk() throws {
        try withTemporaryFolder { dir in
            try writeText(dir + "/p.json", minimal)
            #expect(try SpecLoader.load(dir + "/p.json").run == "r")
        }
    }

    @Test func theDemoPipelineLoads() throws {
        let demo = String(#filePath).replacingOccurrences(of: "Tests/AgentWatcherTests/SpecLoaderTests.swift",
                                                          with: "Sources/DemoCourse/Resources/demo/pipeline.json")
        let spec = try SpecLoader.load(demo)
        #expect(spec.phases.map(\.id) == ["1", "3", "5"])
        #expect(spec.phases.map(\.output.strategy) == [.object, .array, .object])
        #expect(spec.backoff.initialSeconds == 0.1)
        let template = try #require(spec.phases[0].output.template)
        #expect(String(decoding: template.text, as: UTF8.self).hasPrefix(#"{"version":"7.7.0","course":"spa_for_eng""#))
    }
}
