/// A process found in `/proc` when a daemon starts, and whether it is one a previous life of
/// the daemon started. An agent the log names is known by all it recorded at spawn: its pid,
/// its start time (field 22 of `/proc/<pid>/stat`) and the token in its environment; with a
/// start time logged, the pid and start time alone name it (an agent that cleared its
/// environment is still found), and a pid that started at another time is not it, whatever it
/// carries. Any other process is ours only by its token (`AgentToken`): the descendants of an
/// agent, and an agent whose pid the log never got (a crash right after `posix_spawn`).
public struct PreviousLifeProcess: Equatable, Sendable {
    public var pid: Int32
    /// nil: it could not be read (it ended meanwhile).
    public var startTime: UInt64?
    /// Empty when it cannot be read.
    public var environment: [String: String]

    public init(pid: Int32, startTime: UInt64?, environment: [String: String]) {
        self.pid = pid
        self.startTime = startTime
        self.environment = environment
    }

    /// What the log recorded for an agent still in flight.
    public struct Logged: Equatable, Sendable {
        public var id: BatchID
        public var pid: Int32
        public var startTime: UInt64?
        public init(id: BatchID, pid: Int32, startTime: UInt64?) {
            self.id = id
            self.pid = pid
            self.startTime = startTime
        }
    }

    public enum Verdict: Equatable, Sendable {
        case ours
        /// Left alone; the words say why, for the operator.
        case stranger(String)
        /// Nothing to do with this root.
        case unrelated
    }

    public func verdict(logged: Logged?, rootID: String, rootPath: String, lives: Set<String>) -> Verdict {
        if let logged, let expected = logged.startTime {
            if startTime == expected { return .ours }
            return .stranger("pid \(pid) was the agent of \(logged.id.phase)/\(logged.id.index) (run \(logged.id.run)), started at tick "
                + "\(expected); this process started at \(startTime.map(String.init) ?? "?"): the pid was reused")
        }
        if AgentToken.isOurs(environment, rootID: rootID, lives: lives) { return .ours }
        if environment[AgentToken.rootVariable] == rootID || environment["AGENT_WATCHER_ROOT"] == rootPath {
            return .stranger("pid \(pid) carries this root's AGENT_WATCHER_ROOT but no token of this daemon's")
        }
        return .unrelated
    }
}
