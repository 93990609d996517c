import AgentWatcher
import Foundation
import Glibc
import WatcherCore
import WatcherSystem

/// `stop [--agents=kill|leave]`: asks the running daemon to shut down and waits until it has.
enum StopCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        let agents = args.option("agents") ?? "kill"
        let wait = Double(args.int("timeout") ?? 60)
        let client = ControlClient(layout: layout)
        guard let pid = try client.runningDaemon() else {
            if FileSystem.exists(layout.pidFile) {
                let stale = String(decoding: try FileSystem.readFile(layout.pidFile), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                Console.error("agent-watcher: no daemon is running on \(layout.root) (the pid file \(layout.pidFile) names \(stale), which does not hold the lock: a stale file from a daemon that did not stop cleanly; removed it)")
                try FileSystem.unlink(layout.pidFile)
            } else {
                Console.error("agent-watcher: no daemon is running on \(layout.root)")
            }
            return 1
        }
        let follower = try LogFollower(layout: layout)
        let answer = try client.send([("command", ControlClient.string("stop")), ("agents", ControlClient.string(agents))])
        guard answer.event.event == EventName.controlApplied else {
            Console.error("agent-watcher: stop rejected: \(answer.event.reason ?? "?")")
            return 1
        }
        guard try follower.wait(seconds: wait, for: { $0.event.event == EventName.watcherStopped }) != nil else {
            Console.error("agent-watcher: the daemon (pid \(pid)) accepted stop but has not stopped within \(Int(wait)) s")
            return 1
        }
        Console.out("stopped the daemon (pid \(pid)); agents: \(agents == "kill" ? "stopped" : "left running")")
        return 0
    }
}
