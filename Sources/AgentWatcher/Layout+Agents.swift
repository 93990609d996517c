import WatcherCore

/// Agent messages: `mailbox/agents/<recipient>/` is a maildir (`tmp/` -> `new/` -> `cur/`),
/// with `rejected/` for envelopes that could not be read.
extension Layout {
    public var agents: String { mailbox + "/agents" }
    public func agentFolder(_ recipient: String) -> String { agents + "/" + recipient }
    public func agentNew(_ recipient: String) -> String { agentFolder(recipient) + "/new" }
    public func agentCur(_ recipient: String) -> String { agentFolder(recipient) + "/cur" }
    public func agentTmp(_ recipient: String) -> String { agentFolder(recipient) + "/tmp" }
    public func agentRejected(_ recipient: String) -> String { agentFolder(recipient) + "/rejected" }

    /// Whether the watcher leaves `path` alone: staging names, and the folders it never reads
    /// from (`tmp`, `cur`, `accepted`, `rejected`), except `agents/<name>/cur/`, where a
    /// recipient acknowledges a message by moving it.
    public func isUnwatched(_ path: String) -> Bool {
        let slash = path.lastIndex(of: "/")
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        if Layout.isStagingName(name) { return true }
        guard Layout.unwatchedFolderNames.contains(name) else { return false }
        if name == "cur", let slash {
            let parent = path[..<slash]
            if let up = parent.lastIndex(of: "/"), parent[..<up] == agents[...], parent[parent.index(after: up)...] != "cur" {
                return false
            }
        }
        return true
    }
}
