/// What an agent carries in its environment so that a daemon on the same root knows it (and its
/// descendants) as its own: `AGENT_WATCHER_TOKEN=<life tag>.<run>.<phase>.<batch>.<attempt>`,
/// the life tag being the random tag that life logged in `watcher.started`, and
/// `AGENT_WATCHER_ROOT_ID=<device>:<inode>` of the root folder (not its spelling).
public struct AgentToken: Equatable, Sendable {
    public static let variable = "AGENT_WATCHER_TOKEN"
    public static let rootVariable = "AGENT_WATCHER_ROOT_ID"

    public var lifeTag: String
    public var id: BatchID
    public var attempt: Int

    public init(lifeTag: String, id: BatchID, attempt: Int) {
        self.lifeTag = lifeTag
        self.id = id
        self.attempt = attempt
    }

    public var text: String { "\(lifeTag)/\(id.run)/\(id.phase)/\(id.index)/\(attempt)" }

    /// The token of a responder's attempt: `<life tag>/responder/<name>/<turn>/<attempt>` (the
    /// same shape, so recovery finds it like any of the daemon's children).
    public static func responderText(lifeTag: String, responder: String, turn: Int, attempt: Int) -> String {
        "\(lifeTag)/responder/\(responder)/\(turn)/\(attempt)"
    }

    /// The token of a validator of the attempt: the daemon's too, but not the agent's descendant.
    public var validatorText: String { text + "/validator" }

    public static func rootID(device: UInt64, inode: UInt64) -> String { "\(device):\(inode)" }

    /// The life tag of a token, when the rest has the token's shape.
    public static func lifeTag(of text: String) -> String? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5 || (parts.count == 6 && parts[5] == "validator"), !parts[0].isEmpty, Int(parts[3]) != nil, Int(parts[4]) != nil else { return nil }
        return String(parts[0])
    }

    /// Whether `environment` is that of a process started by one of the lives whose tags are
    /// `lives`, on the root `rootID`.
    public static func isOurs(_ environment: [String: String], rootID: String, lives: Set<String>) -> Bool {
        guard environment[rootVariable] == rootID, let token = environment[variable], let tag = lifeTag(of: token) else { return false }
        return lives.contains(tag)
    }
}
