import WatcherCore
import WatcherSystem

extension RootDirectory {
    /// The environment of every child the daemon starts (agents, validators, responders):
    /// `base` with `extra` over it, `AGENT_WATCHER_ROOT` (for the child; not how the daemon knows
    /// its own), and what a restart knows its own by, even after a `setsid`: the root's device
    /// and inode, and `token` (a life's tag and the attempt, see ``AgentToken``).
    func childEnvironment(_ base: [String: String], extra: [String: String] = [:], rootPath: String, token: String) -> [String: String] {
        var env = base.merging(extra) { $1 }
        env["AGENT_WATCHER_ROOT"] = rootPath
        env[AgentToken.rootVariable] = AgentToken.rootID(device: device, inode: inode)
        env[AgentToken.variable] = token
        return env
    }
}
