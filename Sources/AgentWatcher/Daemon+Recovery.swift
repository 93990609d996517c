import Glibc
import WatcherCore
import WatcherSystem

extension Daemon {
    /// Finds every process started by an earlier daemon on this root (agents carry
    /// `AGENT_WATCHER_ROOT=<root>` in their environment, and so do their descendants), kills
    /// their process groups, and waits until they are gone. This finds an agent even when the
    /// daemon died between `posix_spawn` and logging its pid, and a pid reused by an unrelated
    /// program is never touched. Returns `pid/pgid` of what was killed.
    func stopAgentsOfPreviousLife() -> [String] {
        let pids: [pid_t]
        do { pids = try ProcessControl.processes(withEnvironment: "AGENT_WATCHER_ROOT", equalTo: layout.root) } catch {
            Console.error("agent-watcher: cannot look for agents of a previous run in /proc: \(error)")
            return []
        }
        guard !pids.isEmpty else { return [] }
        let ownGroup = getpgrp()
        var killed: [String] = []
        var waiters: [FileDescriptor] = []
        for pid in pids {
            let group = ProcessControl.processGroup(of: pid)
            do {
                if let group, group != ownGroup { _ = try ProcessControl.signalGroup(group, SIGKILL) }
                _ = try ProcessControl.signal(pid, SIGKILL)
                killed.append("\(pid)/\(group.map(String.init) ?? "?")")
                waiters.append(try ProcessControl.openPIDFD(pid))
            } catch let e as SystemError where e.errno == .noSuchProcess {
                continue
            } catch {
                Console.error("agent-watcher: cannot kill agent \(pid) of a previous run: \(error)")
            }
        }
        // A killed process's pidfd becomes readable when it has exited; wait at most 5 s in all.
        let deadline = Clock.monotonicNanoseconds() + 5_000_000_000
        var pending = waiters
        while !pending.isEmpty {
            let now = Clock.monotonicNanoseconds()
            guard now < deadline else {
                Console.error("agent-watcher: \(pending.count) agent process(es) of a previous run did not exit within 5 s")
                break
            }
            let ms = Int32((deadline - now) / 1_000_000) + 1
            do {
                let ready = Set(try Poller.wait(pending.map(\.rawValue), timeoutMilliseconds: ms))
                pending.removeAll { ready.contains($0.rawValue) }
            } catch {
                Console.error("agent-watcher: waiting for old agents to exit: \(error)")
                break
            }
        }
        return killed
    }
}
