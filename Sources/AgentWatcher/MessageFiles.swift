import WatcherCore
import WatcherSystem

/// The message envelopes on disk, for the readers (`messages`, the dashboard): every file
/// under `mailbox/agents/<name>/` (the folder, `new/` and `cur/`). Files that are not
/// envelopes, or cannot be read, are left out and named in `problems`.
public enum MessageFiles {
    public struct Found {
        public var files: [(path: String, message: AgentMessage)] = []
        public var problems: [String] = []
    }

    public static func collect(_ layout: Layout) throws -> Found {
        var found = Found()
        guard FileSystem.exists(layout.agents) else { return found }
        for recipient in try FileSystem.listDirectory(layout.agents).filter({ $0.kind == .directory }).map(\.name).sorted() {
            for folder in [layout.agentFolder(recipient), layout.agentNew(recipient), layout.agentCur(recipient)] {
                guard FileSystem.exists(folder) else { continue }
                for entry in try FileSystem.listDirectory(folder).sorted(by: { $0.name < $1.name })
                    where entry.kind == .regular && !Layout.isStagingName(entry.name) {
                    let path = folder + "/" + entry.name
                    switch SafeFile.readDropped(path, limit: 4 << 20) {
                    case .contents(let bytes, _):
                        switch AgentMessage.parse(bytes: bytes) {
                        case .success(let m): found.files.append((path, m))
                        case .failure(let e): found.problems.append("\(path): not a message envelope: \(e)")
                        }
                    case .refused(let r): found.problems.append("\(path): skipped: the file \(r)")
                    case .failed(let e): found.problems.append("\(path): cannot read: \(e)")
                    case .vanished: continue
                    }
                }
            }
        }
        return found
    }
}
