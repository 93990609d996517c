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

    /// The attempt's descendants that left its process group (`setsid`) get `sig` too: they
    /// are stopped with the attempt. Found by the attempt's token in their environment, and,
    /// while the agent lives, as its descendants in the process tree (one that also cleared its
    /// environment). Returns how many.
    @discardableResult
    func signalDescendantsOutsideTheGroup(_ pgid: pid_t, _ sig: Int32) -> Int {
        var strays: Set<pid_t> = []
        do {
            if let token = agentGroups[pgid]?.token {
                strays.formUnion(try ProcessControl.processes { $0[AgentToken.variable] == token }.map(\.pid))
            }
            if agentGroups[pgid]?.leaderAlive ?? (children[pgid] != nil) {
                strays.formUnion(try ProcessTree.current().descendants(of: pgid))
            }
        } catch {
            Console.error("agent-watcher: cannot look in /proc for descendants of agent \(pgid): \(error)")
            return 0
        }
        var n = 0
        for p in strays.sorted() where ProcessControl.processGroup(of: p) != pgid {
            do { if try ProcessControl.signal(p, sig) { n += 1 } } catch {
                Console.error("agent-watcher: cannot signal \(p), a descendant of agent \(pgid): \(error)")
            }
        }
        return n
    }

    func leaderExited(_ pgid: pid_t) {
        guard var group = agentGroups[pgid] else { return }
        group.leaderAlive = false
        // Descendants that left the group (`setsid`) are looked for now and again after the
        // grace period (one may be between fork and setsid now): the group is tracked till then.
        let members = ProcessControl.hasLiveMembers(pgid) // before the strays: one between fork and setsid is a member
        let strays = signalDescendantsOutsideTheGroup(pgid, SIGTERM)
        guard members || strays > 0 || (group.token != nil && stopping == nil) else {
            agentGroups[pgid] = nil // nothing left (or a stop under way: no grace to wait out for what is gone)
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
            // Tracked through the grace period (a descendant may be between fork and setsid), then
            // until empty; when a stop is under way, only while something of it is left.
            let looks = life.phase == .killed || stopping != nil
            let members = looks && ProcessControl.hasLiveMembers(pgid) // before the strays, as above
            let strays = looks ? signalDescendantsOutsideTheGroup(pgid, 0) : 0
            if !life.keepsTracking(membersLeft: members, descendantsOutside: strays, stopping: stopping != nil) {
                agentGroups[pgid] = nil
            }
        }
    }

    /// Orphans the daemon was given as their subreaper (their parent died), which are not
    /// children it started: descendants of its agents or validators. At stop they get `sig`
    /// with the agents; returns how many.
    @discardableResult
    func signalOrphans(_ sig: Int32) -> Int {
        let orphans: [pid_t]
        do {
            orphans = try ProcessTree.current().children(of: getpid()).filter { children[$0] == nil && !childrenBeforeStart.contains($0) }
        } catch {
            Console.error("agent-watcher: cannot look in /proc for orphaned descendants: \(error)")
            return 0
        }
        var n = 0
        for pid in orphans {
            do { if try ProcessControl.signal(pid, sig) { n += 1 } } catch {
                Console.error("agent-watcher: cannot signal \(pid), an orphaned descendant of an agent: \(error)")
            }
        }
        return n
    }

    func signal(group pgid: pid_t, _ sig: Int32) {
        do { _ = try ProcessControl.signalGroup(pgid, sig) } catch {
            Console.error("agent-watcher: cannot signal process group \(pgid): \(error)")
        }
    }
}
