import Glibc
import WatcherCore
import WatcherSystem

/// An agent's process group, tracked until it is empty. When the agent (the group's leader)
/// exits and leaves processes behind, they get SIGTERM, then SIGKILL after the grace period:
/// an attempt never leaves orphans running into the next one. The daemon is their subreaper,
/// so it reaps them too: no zombies.
struct AgentGroup {
    /// The batch of a batch agent; nil for a responder.
    var id: BatchID?
    var leaderAlive = true
    var grace: Double = ChildLifetime.defaultGraceSeconds
    /// Once the leader has exited with members left: their lifetime (SIGTERM, grace, SIGKILL).
    var life: ChildLifetime?
    /// The attempt's `AGENT_WATCHER_TOKEN`: descendants that left the group (`setsid`) still carry it.
    var token: String?
}

extension Daemon {
    func trackAgentGroup(_ pgid: pid_t, _ id: BatchID?, token: String? = nil, grace: Double? = nil) {
        agentGroups[pgid] = AgentGroup(id: id,
                                       grace: grace ?? id.flatMap { runs[$0.run] }?.spec.killGraceSeconds ?? ChildLifetime.defaultGraceSeconds,
                                       token: token)
    }

    /// The attempt's descendants that left its process group (`setsid`), found by its token in
    /// their environment, get `sig` too: they are stopped with the attempt. Returns how many.
    @discardableResult
    func signalDescendantsOutsideTheGroup(_ pgid: pid_t, _ sig: Int32) -> Int {
        guard let token = agentGroups[pgid]?.token else { return 0 }
        let strays: [(pid: pid_t, environment: [String: String])]
        do { strays = try ProcessControl.processes { $0[AgentToken.variable] == token } } catch {
            Console.error("agent-watcher: cannot look in /proc for descendants of agent \(pgid): \(error)")
            return 0
        }
        var n = 0
        for p in strays where ProcessControl.processGroup(of: p.pid) != pgid {
            do { if try ProcessControl.signal(p.pid, sig) { n += 1 } } catch {
                Console.error("agent-watcher: cannot signal \(p.pid), a descendant of agent \(pgid): \(error)")
            }
        }
        return n
    }

    func leaderExited(_ pgid: pid_t) {
        guard var group = agentGroups[pgid] else { return }
        group.leaderAlive = false
        // Descendants that left the group (`setsid`) are looked for now and again after the
        // grace period (one may be between fork and setsid now): the group is tracked till then.
        let strays = signalDescendantsOutsideTheGroup(pgid, SIGTERM)
        guard ProcessControl.hasLiveMembers(pgid) || strays > 0 || group.token != nil else {
            agentGroups[pgid] = nil
            return
        }
        let (life, _) = ChildLifetime.leftovers(now: Daemon.now(), grace: group.grace) // SIGTERM now, SIGKILL after the grace
        if ProcessControl.hasLiveMembers(pgid) { signal(group: pgid, SIGTERM) }
        group.life = life
        agentGroups[pgid] = group
    }

    /// Forgets empty groups; SIGKILLs leftover processes whose grace period is over.
    func sweepAgentGroups() {
        let now = Daemon.now()
        for (pgid, group) in agentGroups where !group.leaderAlive {
            guard var life = group.life else { continue }
            for action in life.tick(now: now) {
                switch action {
                case .terminate: break
                case .kill:
                    signalDescendantsOutsideTheGroup(pgid, SIGKILL)
                    if ProcessControl.hasLiveMembers(pgid) { signal(group: pgid, SIGKILL) }
                case .abandon:
                    Console.error("agent-watcher: process group \(pgid) still has members after SIGKILL; no longer waiting for them")
                }
            }
            agentGroups[pgid]?.life = life
            // Tracked through the grace period (a descendant may be between fork and setsid), then until empty.
            if life.phase == .ended || (life.phase == .killed && !ProcessControl.hasLiveMembers(pgid)
                                         && signalDescendantsOutsideTheGroup(pgid, 0) == 0) {
                agentGroups[pgid] = nil
            }
        }
    }

    func signal(group pgid: pid_t, _ sig: Int32) {
        do { _ = try ProcessControl.signalGroup(pgid, sig) } catch {
            Console.error("agent-watcher: cannot signal process group \(pgid): \(error)")
        }
    }
}
