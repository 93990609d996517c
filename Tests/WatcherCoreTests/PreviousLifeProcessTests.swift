import Testing
@testable import WatcherCore

/// Which processes found at a start a previous life of the daemon started.
@Suite struct PreviousLifeProcessTests {
    let root = "8:42"
    let a1 = BatchID(run: "r", phase: "a", index: 1)
    var token: [String: String] { [AgentToken.rootVariable: root, AgentToken.variable: "t0/r/a/1/1"] }

    func verdict(_ p: PreviousLifeProcess, logged: PreviousLifeProcess.Logged? = nil) -> PreviousLifeProcess.Verdict {
        p.verdict(logged: logged, rootID: root, rootPath: "/srv/aw", lives: ["t0"])
    }

    @Test func aLoggedAgentIsKnownByPidAndStartTimeEvenWithoutItsEnvironment() {
        let logged = PreviousLifeProcess.Logged(id: a1, pid: 7, startTime: 1000)
        #expect(verdict(PreviousLifeProcess(pid: 7, startTime: 1000, environment: [:]), logged: logged) == .ours)
        #expect(verdict(PreviousLifeProcess(pid: 7, startTime: 1000, environment: token), logged: logged) == .ours)
    }

    @Test func aReusedPidIsAStrangerWhateverItCarries() {
        let logged = PreviousLifeProcess.Logged(id: a1, pid: 7, startTime: 1000)
        for env in [token, [:]] {
            guard case .stranger(let why) = verdict(PreviousLifeProcess(pid: 7, startTime: 2000, environment: env), logged: logged) else {
                Issue.record("a reused pid was taken for the agent")
                continue
            }
            #expect(why.contains("the pid was reused"))
            #expect(why.contains("a/1"))
        }
    }

    @Test func withoutALoggedStartTimeTheTokenDecides() {
        let old = PreviousLifeProcess.Logged(id: a1, pid: 7, startTime: nil) // a log of an older version
        #expect(verdict(PreviousLifeProcess(pid: 7, startTime: 5, environment: token), logged: old) == .ours)
        #expect(verdict(PreviousLifeProcess(pid: 9, startTime: 5, environment: token)) == .ours, "a descendant")
        var otherLife = token
        otherLife[AgentToken.variable] = "zz/r/a/1/1"
        #expect(verdict(PreviousLifeProcess(pid: 9, startTime: 5, environment: otherLife)) != .ours)
        #expect(verdict(PreviousLifeProcess(pid: 9, startTime: 5, environment: ["AGENT_WATCHER_ROOT": "/srv/aw"])) != .ours)
        #expect(verdict(PreviousLifeProcess(pid: 9, startTime: 5, environment: ["HOME": "/root"])) == .unrelated)
    }
}
