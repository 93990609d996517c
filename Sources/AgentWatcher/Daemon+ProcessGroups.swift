import Glibc
import WatcherCore
import WatcherSystem

/// An agent's process group, tracked until it is empty. When the agent (the group's leader)
/// exits and leaves processes behind, they get SIGTERM, then SIGKILL after the grace period:
/// an attempt never leaves orphans running into the next one. The daemon is their subreaper,
/// so it reaps them too: no zombies.
struct AgentGroup {
    var id: BatchID
    var leaderAlive = true
    var killAt: Instant?
}

extension Daemon {
    func trackAgentGroup(_ pgid: pid_t, _ id: BatchID) {
        agentGroups[pgid] = AgentGroup(id: id)
    }

    func leaderExited(_ pgid: pid_t) {
        guard var group = agentGroups[pgid] else { return }
        group.leaderAlive = false
        guard ProcessControl.hasLiveMembers(pgid) else {
            agentGroups[pgid] = nil
            return
        }
        signal(group: pgid, SIGTERM)
        group.killAt = Daemon.now().adding(seconds: runs[group.id.run]?.spec.killGraceSeconds ?? 5)
        agentGroups[pgid] = group
    }

    /// Forgets empty groups; SIGKILLs leftover processes whose grace period is over.
    func sweepAgentGroups() {
        let now = Daemon.now()
        for (pgid, group) in agentGroups where !group.leaderAlive {
            if !ProcessControl.hasLiveMembers(pgid) {
                agentGroups[pgid] = nil
            } else if let at = group.killAt, at <= now {
                signal(group: pgid, SIGKILL)
                agentGroups[pgid]?.killAt = nil
            }
        }
    }

    func signal(group pgid: pid_t, _ sig: Int32) {
        do { _ = try ProcessControl.signalGroup(pgid, sig) } catch {
            Console.error("agent-watcher: cannot signal process group \(pgid): \(error)")
        }
    }
}
