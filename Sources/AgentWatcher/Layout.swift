import WatcherCore

/// Where things live under a root folder (the current folder by default).
public struct Layout: Sendable {
    public let root: String

    public init(root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    public var mailbox: String { root + "/mailbox" }
    public var logs: String { root + "/logs" }
    public var eventLog: String { logs + "/events.jsonl" }
    public var lockFile: String { logs + "/watcher.lock" }
    public var pidFile: String { logs + "/watcher.pid" }
    public var control: String { mailbox + "/control" }

    public func runFolder(_ run: String) -> String { mailbox + "/" + run }
    public func outbox(_ run: String) -> String { runFolder(run) + "/outbox" }
    public func accepted(_ run: String) -> String { runFolder(run) + "/accepted" }
    public func rejected(_ run: String) -> String { runFolder(run) + "/rejected" }
    public func agentLogs(_ run: String) -> String { logs + "/agents/" + run }
    public func validatorLogs(_ run: String) -> String { logs + "/validators/" + run }

    public func outputPath(_ id: BatchID) -> String { outbox(id.run) + "/" + id.outputFileName }

    /// `logs/agents/<run>/<phase>-<batch>-<attempt>.log`
    public func agentLog(_ id: BatchID, attempt: Int) -> String {
        agentLogs(id.run) + "/\(id.phase)-\(id.index)-\(attempt).log"
    }

    /// `logs/agents/<run>/<phase>-<batch>-<attempt>.stdout`: a JSON agent's standard output,
    /// kept apart from its standard error (the `.log`).
    public func agentStdout(_ id: BatchID, attempt: Int) -> String {
        agentLogs(id.run) + "/\(id.phase)-\(id.index)-\(attempt).stdout"
    }

    public func promptFile(_ id: BatchID, attempt: Int) -> String {
        agentLogs(id.run) + "/\(id.phase)-\(id.index)-\(attempt).prompt.md"
    }

    /// Folder names inside the mailbox the watcher never reads from (its own archives and staging).
    public static let unwatchedFolderNames: Set<String> = ["tmp", "cur", "accepted", "rejected"]

    /// Names people and agents use while a file is not finished yet.
    public static func isStagingName(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix("~") || name.hasSuffix(".swp") || name.hasSuffix(".tmp")
            || name.hasSuffix(".part")
    }

    /// What a path inside the mailbox is.
    public enum Place: Equatable {
        case outbox(run: String, name: String)
        case control(name: String)
        /// `agents/<recipient>/<name>` or `agents/<recipient>/new/<name>`: a message to deliver.
        case agentMessage(recipient: String, name: String, inNew: Bool)
        /// `agents/<recipient>/cur/<name>`: the recipient acknowledged a message.
        case agentAck(recipient: String, name: String)
        case other
    }

    public func place(of path: String) -> Place {
        guard path.hasPrefix(mailbox + "/") else { return .other }
        let parts = path.dropFirst(mailbox.count + 1).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 3, parts[1] == "outbox" { return .outbox(run: parts[0], name: parts[2]) }
        if parts.count == 3, parts[0] == "control", parts[1] == "new" { return .control(name: parts[2]) }
        if parts.count == 2, parts[0] == "control" { return .control(name: parts[1]) }
        if parts.count == 3, parts[0] == "agents" { return .agentMessage(recipient: parts[1], name: parts[2], inNew: false) }
        if parts.count == 4, parts[0] == "agents", parts[2] == "new" { return .agentMessage(recipient: parts[1], name: parts[3], inNew: true) }
        if parts.count == 4, parts[0] == "agents", parts[2] == "cur" { return .agentAck(recipient: parts[1], name: parts[3]) }
        return .other
    }
}
