import Testing
@testable import WatcherCore

/// A plan in the given order (`smPlan` is otherwise the same).
private func plan(_ order: SchedulingOrder, phases: [String], batches: Int, concurrency: Int) -> RunPlan {
    var p = smPlan(phases: phases, batches: batches, concurrency: concurrency)
    p.order = order
    return p
}

/// Runs the plan to its end, every agent taking the same time: the batch started first merges
/// first. Returns the batches in the order they were spawned.
private func spawnOrder(_ p: RunPlan) -> [String] {
    var m = Machine(p)
    var running = spawns(m.start()).map { String($0.dropLast(2)) }
    var order = running
    var t = 1000.0, pid: Int32 = 100
    while !running.isEmpty {
        let name = running.removeFirst()
        let parts = name.split(separator: "/")
        t += 1
        pid += 1
        let next = spawns(smFinish(&m, sm(String(parts[0]), Int(parts[1])!), pid: pid, at: t)).map { String($0.dropLast(2)) }
        running += next
        order += next
    }
    return order
}

@Suite struct SchedulingOrderTests {
    @Test func phaseFirstIsTheOrderOfEarlierVersions() {
        #expect(spawnOrder(plan(.phaseFirst, phases: ["a", "b"], batches: 4, concurrency: 1))
            == ["a/1", "a/2", "a/3", "a/4", "b/1", "b/2", "b/3", "b/4"])
        #expect(spawnOrder(plan(.phaseFirst, phases: ["a", "b", "c"], batches: 3, concurrency: 2))
            == ["a/1", "a/2", "a/3", "b/1", "b/2", "b/3", "c/1", "c/2", "c/3"])
    }

    @Test func chainTakesAnEarlyBatchThroughItsPhasesWhileTheRunCanAffordIt() {
        // One slot: batch 1 and 2 go through both phases first; from a/3 on, a/4's chain (two
        // phases) has less than 1.5 batch-times of slack, so it goes before b/3.
        #expect(spawnOrder(plan(.chain, phases: ["a", "b"], batches: 4, concurrency: 1))
            == ["a/1", "b/1", "a/2", "b/2", "a/3", "a/4", "b/3", "b/4"])
    }

    @Test func chainGivesTheFirstEndToEndResultAsSoonAsItsChainAllows() {
        var m = Machine(plan(.chain, phases: ["a", "b", "c"], batches: 6, concurrency: 2))
        #expect(spawns(m.start()) == ["a/1#1", "a/2#1"])
        // a/3 … a/6 are ready too, but batch 1 goes on: b/1, then c/1 the moment b/1 merges.
        #expect(spawns(smFinish(&m, a1, pid: 101, at: 1001)) == ["b/1#1"])
        #expect(spawns(smFinish(&m, b1, pid: 102, at: 1002)) == ["c/1#1"])
        #expect(m.stateOf(sm("a", 3)) == .pending)
        #expect(m.stateOf(c1) == .spawning)

        var old = Machine(plan(.phaseFirst, phases: ["a", "b", "c"], batches: 6, concurrency: 2))
        old.start()
        #expect(spawns(smFinish(&old, a1, pid: 101, at: 1001)) == ["a/3#1"])
    }

    @Test func chainStartsTheLongestChainsBeforeTheRunsEnd() {
        // Four slots, 3 phases × 12 batches: the last batches' first phase must not wait until
        // every early batch has gone through all its phases.
        let order = spawnOrder(plan(.chain, phases: ["a", "b", "c"], batches: 12, concurrency: 4))
        #expect(order.count == 36)
        #expect(Set(order).count == 36)
        let lastA = order.lastIndex { $0.hasPrefix("a/") }!
        let firstC = order.firstIndex { $0.hasPrefix("c/") }!
        #expect(firstC < lastA, "batch 1 reaches the last phase before every first phase has started")
        #expect(lastA < order.count - 8, "the last chain starts before the run's last two rounds")
    }

    @Test(arguments: [
        // waiting, active, concurrency, chain, waiting in its phase, due
        (20, 0, 1, 3, 10, false), // slack 20 - 3 - 9 = 8
        (6, 0, 1, 3, 3, true),    // slack 6 - 3 - 2 = 1
        (7, 1, 1, 2, 2, false),   // slack 7.5 - 2 - 1 = 4.5
        (16, 2, 8, 3, 2, true),   // slack 2.125 - 3 - 0.125 < 0
        (40, 0, 4, 3, 4, false),  // slack 10 - 3 - 0.75 = 6.25
        (3, 0, 1, 2, 1, true),    // slack 3 - 2 - 0 = 1
    ])
    func theLongestChainIsDueWhenItsSlackIsUnderOneAndAHalfBatchTimes(
        waiting: Int, active: Int, concurrency: Int, chain: Int, inPhase: Int, due: Bool
    ) {
        #expect(SchedulingOrder.longestChainIsDue(waiting: waiting, active: active, concurrency: concurrency,
                                                  chainLength: chain, waitingInPhase: inPhase) == due)
    }

    @Test func theOrdersAgreeOnOnePhase() {
        #expect(spawnOrder(plan(.chain, phases: ["a"], batches: 5, concurrency: 2))
            == spawnOrder(plan(.phaseFirst, phases: ["a"], batches: 5, concurrency: 2)))
    }
}
