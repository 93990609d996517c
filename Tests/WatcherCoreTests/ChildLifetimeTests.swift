import Testing
@testable import WatcherCore

private let t0 = Instant(nanoseconds: 1_000_000_000)
private func at(_ s: Double) -> Instant { t0.adding(seconds: s) }

/// The one table of a child's lifetime: each row is a life, a list of (what happens, when) and
/// the actions and phase each step gives.
@Suite struct ChildLifetimeTests {
    enum Step { case tick(Double), stop(String, Double), kill(Double), ended }

    static let table: [(name: String, deadline: Double?, steps: [(Step, [ChildLifetime.Action], ChildLifetime.Phase)])] = [
        ("runs its course", 10, [(.tick(9), [], .running), (.ended, [], .ended), (.tick(20), [], .ended)]),
        ("no deadline never times out", nil, [(.tick(1e6), [], .running)]),
        ("timeout: TERM, grace, KILL, reaped", 10, [
            (.tick(10), [.terminate], .terminating), (.tick(12), [], .terminating),
            (.tick(15), [.kill], .killed), (.ended, [], .ended)]),
        ("a stop ends at its grace", 10, [
            (.stop("cancelled", 1), [.terminate], .terminating), (.stop("superseded", 2), [], .terminating),
            (.tick(5.9), [], .terminating), (.tick(6), [.kill], .killed), (.tick(10), [], .killed)]),
        ("it goes within the grace", nil, [(.stop("cancelled", 1), [.terminate], .terminating), (.ended, [], .ended), (.tick(9), [], .ended)]),
        ("killed outright, then abandoned when reaping hangs", nil, [
            (.kill(1), [.kill], .killed), (.tick(10), [], .killed), (.tick(11), [.abandon], .ended)]),
        ("kill after a stop", nil, [(.stop("shutdown", 0), [.terminate], .terminating), (.kill(1), [.kill], .killed), (.kill(2), [], .killed)]),
    ]

    @Test(arguments: 0..<table.count)
    func lifetime(_ row: Int) {
        let r = Self.table[row]
        var life = ChildLifetime(deadline: r.deadline.map { at($0) }, grace: 5)
        for (i, (step, actions, phase)) in r.steps.enumerated() {
            let got: [ChildLifetime.Action]
            switch step {
            case .tick(let s): got = life.tick(now: at(s))
            case .stop(let why, let s): got = life.stop(reason: why, now: at(s))
            case .kill(let s): got = life.kill(reason: "kill", now: at(s))
            case .ended: life.ended(); got = []
            }
            #expect(got == actions, "\(r.name), step \(i)")
            #expect(life.phase == phase, "\(r.name), step \(i)")
        }
    }

    @Test func theFirstStopReasonStandsAndDeadlinesFollowThePhase() {
        var life = ChildLifetime(deadline: at(10), grace: 2)
        #expect(life.nextDeadline == at(10) && !life.isStopping)
        _ = life.tick(now: at(10))
        #expect(life.stopReason == "timeout" && life.nextDeadline == at(12))
        _ = life.stop(reason: "cancelled", now: at(11))
        #expect(life.stopReason == "timeout")
        _ = life.tick(now: at(12))
        #expect(life.nextDeadline == at(12 + ChildLifetime.reapSeconds))
        let (left, actions) = ChildLifetime.leftovers(now: t0, grace: 3)
        #expect(actions == [.terminate] && left.nextDeadline == at(3) && left.stopReason == "leader_exited")
        #expect(ChildLifetime(grace: -1).grace == 0)
    }

    /// Leftovers of a group whose leader exited: tracked while anything is left; with nothing
    /// left, through the grace (a descendant may be between fork and setsid), but not once a
    /// stop is under way (it ends as soon as nothing is left) nor after SIGKILL.
    @Test func leftoversAreTrackedWhileAnythingIsLeftAndAStopDoesNotWaitOutTheGrace() {
        var (life, _) = ChildLifetime.leftovers(now: t0, grace: 20)
        for stopping in [false, true] {
            #expect(life.keepsTracking(membersLeft: true, descendantsOutside: 0, stopping: stopping))
            #expect(life.keepsTracking(membersLeft: false, descendantsOutside: 1, stopping: stopping))
        }
        #expect(life.keepsTracking(membersLeft: false, descendantsOutside: 0, stopping: false)) // within the grace
        #expect(!life.keepsTracking(membersLeft: false, descendantsOutside: 0, stopping: true)) // a stop: dropped at once
        #expect(life.tick(now: at(20)) == [.kill]) // what is left still gets SIGKILL at the grace's end
        #expect(life.keepsTracking(membersLeft: true, descendantsOutside: 0, stopping: false))
        #expect(!life.keepsTracking(membersLeft: false, descendantsOutside: 0, stopping: false))
        life.ended()
        #expect(!life.keepsTracking(membersLeft: true, descendantsOutside: 3, stopping: true))
    }
}
