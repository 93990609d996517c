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
    var killAt: Instant?
    /// The attempt's `AGENT_WATCHER_TOKEN`: descendants that left the group (`setsid`) still carry it.
    var token: String?
}

extension Daemon {
    func trackAgentGroup(_ pgid: pid_t, _ id: BatchID?, token: String? = nil) {
        agentGroups[pgid] = AgentGroup(id: id, token: token)
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
        if ProcessControl.hasLiveMembers(pgid) { signal(group: pgid, SIGTERM) }
        group.killAt = Daemon.now().adding(seconds: group.id.flatMap { runs[$0.run] }?.spec.killGraceSeconds ?? TurnBook.killGraceSeconds)
        agentGroups[pgid] = group
    }

    /// Forgets empty groups; SIGKILLs leftover processes whose grace period is over.
    func sweepAgentGroups() {
        let now = Daemon.now()
        for (pgid, group) in agentGroups where !group.leaderAlive {
            if let at = group.killAt, at <= now {
                signalDescendantsOutsideTheGroup(pgid, SIGKILL)
                if ProcessControl.hasLiveMembers(pgid) { signal(group: pgid, SIGKILL) }
                agentGroups[pgid]?.killAt = nil
            } else if group.killAt == nil, !ProcessControl.hasLiveMembers(pgid),
                      signalDescendantsOutsideTheGroup(pgid, 0) == 0 {
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
