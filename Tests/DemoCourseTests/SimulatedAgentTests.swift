import Foundation
import Testing
@testable import DemoCourse
import WatcherCore

private func agent(phase: String = "1", batch: Int = 2, attempt: Int = 1, seed: UInt64 = 42) -> SimulatedAgent {
    SimulatedAgent(answersPath: "/nonexistent/answers.json", itemsPath: "/nonexistent/seeds.json", phase: phase,
                   batch: batch, start: (batch - 1) * 20 + 1, end: batch * 20, attempt: attempt,
                   output: "/nonexistent/out.json", seed: seed)
}

/// The plan as a comparable value, with the next few numbers of its generator.
private func summary(_ a: SimulatedAgent) -> String {
    var (seconds, flaw, rename, rng) = a.plan()
    return "\(seconds) \(flaw?.rawValue ?? "-") \(rename) \(rng.next()) \(rng.next())"
}

private let demoDir = String(#filePath).replacingOccurrences(of: "Tests/DemoCourseTests/SimulatedAgentTests.swift",
                                                             with: "Sources/DemoCourse/Resources/demo")

@Suite struct SimulatedAgentTests {
    @Test func planIsTheSameForTheSameSeedPhaseBatchAndAttempt() {
        for phase in ["1", "3", "5"] {
            for batch in 1...5 {
                for attempt in 1...3 {
                    #expect(summary(agent(phase: phase, batch: batch, attempt: attempt))
                        == summary(agent(phase: phase, batch: batch, attempt: attempt)))
                }
            }
        }
    }

    @Test func planDiffersAcrossAttemptsBatchesPhasesAndSeeds() {
        let base = summary(agent())
        #expect(summary(agent(attempt: 2)) != base)
        #expect(summary(agent(attempt: 3)) != summary(agent(attempt: 2)))
        #expect(summary(agent(batch: 3)) != base)
        #expect(summary(agent(phase: "3")) != base)
        #expect(summary(agent(seed: 43)) != base)
        // Output paths and item files do not change the plan.
        var other = agent()
        other.output = "/elsewhere"
        #expect(summary(other) == base)
    }

    @Test func planStaysInRangeAndRetriesAreLessOftenFlawed() {
        var flawed = [1: 0, 2: 0]
        var kinds: Set<SimulatedAgent.Flaw> = []
        var renamed = 0
        let n = 2000
        for batch in 1...n {
            for attempt in 1...2 {
                let p = agent(batch: batch, attempt: attempt).plan()
                #expect(p.seconds >= 0.05 && p.seconds < 0.5)
                if let f = p.flaw { flawed[attempt, default: 0] += 1; kinds.insert(f) }
                if p.rename { renamed += 1 }
            }
        }
        let first = Double(flawed[1]!) / Double(n), second = Double(flawed[2]!) / Double(n)
        #expect(first > 0.25 && first < 0.35, "first attempts flawed \(first)")
        #expect(second > 0.06 && second < 0.14, "retries flawed \(second)")
        #expect(kinds == Set(SimulatedAgent.Flaw.allCases))
        #expect(renamed > n * 2 * 4 / 10 && renamed < n * 2 * 6 / 10)
    }

    @Test func splitMix64IsTheReferenceSequence() {
        // SplitMix64 seeded with 0: the published first outputs.
        var rng = SplitMix64(seed: 0)
        #expect(rng.next() == 0xE220_A839_7B1D_CDAF)
        #expect(rng.next() == 0x6E78_9E6A_A1B9_65F4)
        var r = SplitMix64(seed: 7)
        for _ in 0..<1000 { let d = r.nextDouble(); #expect(d >= 0 && d < 1) }
    }

    @Test func batchBytesHoldTheBatchsItemsFromTheAnswerKey() throws {
        var a = SimulatedAgent(answersPath: demoDir + "/answers/phase-1.json", itemsPath: demoDir + "/seeds.json",
                               phase: "1", batch: 2, start: 21, end: 40, attempt: 1, output: "/x", seed: 1)
        var rng = SplitMix64(seed: 1)
        let bytes = try a.batchBytes(flaw: nil, rng: &rng)
        let v = try JSONParser.parse(bytes)
        let keys = try #require(v["translations"]?.objectValue).map(\.key)
        #expect(keys == (21...40).map { "S" + String(repeating: "0", count: 4 - String($0).count) + String($0) })
        // A missing-item flaw leaves exactly one out.
        let missing = try a.batchBytes(flaw: .missingItem, rng: &rng)
        #expect(try JSONParser.parse(missing)["translations"]?.objectValue?.count == 19)
        // The array-shaped answer key of phase 3 works the same way.
        a.answersPath = demoDir + "/answers/phase-3.json"
        a.phase = "3"
        let three = try JSONParser.parse(try a.batchBytes(flaw: nil, rng: &rng))
        let seedIDs = try #require(three["seeds"]?.arrayValue).compactMap { $0["seed_id"]?.stringValue }
        #expect(seedIDs.first == "S0021" && seedIDs.last == "S0040" && seedIDs.count == 20)
    }
}
