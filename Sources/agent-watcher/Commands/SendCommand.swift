import AgentWatcher
import Foundation
import Glibc
import WatcherCore
import WatcherSystem

/// `send --to NAME --type TYPE [--body JSON | --body-file F] [--reply-to ID] [--from NAME]
/// [--run R --phase P --batch K] [--id ID] [--root DIR]`: writes a well-formed envelope into
/// `mailbox/agents/<to>/tmp/`, renames it into `new/` and prints its id. No daemon is needed:
/// a running one delivers it at once, a later one at its start.
enum SendCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let env = ProcessInfo.processInfo.environment
        let to = args.option("to") ?? ""
        let typeName = args.option("type") ?? ""
        let bodyText = args.option("body")
        let bodyFile = args.option("body-file")
        let replyTo = args.option("reply-to")
        let fromArg = args.option("from")
        var run = args.option("run")
        var phase = args.option("phase")
        var batchText = args.option("batch")
        let idArg = args.option("id")
        let wait = args.flag("wait")
        var timeout: Double?
        if let t = args.option("timeout") {
            guard let s = Double(t), s > 0, s.isFinite else { throw UsageError("--timeout expects a number of seconds > 0, got '\(t)'") }
            timeout = s
        }
        if timeout != nil && !wait { throw UsageError("--timeout needs --wait") }

        guard let type = AgentMessage.Kind(rawValue: typeName) else {
            throw UsageError("--type: unknown message type '\(typeName)'; expected one of "
                + AgentMessage.Kind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if bodyText != nil && bodyFile != nil { throw UsageError("give --body or --body-file, not both") }
        // An agent spawned by the watcher has its batch in the environment.
        if run == nil && phase == nil && batchText == nil {
            run = env["AGENT_WATCHER_RUN"]
            phase = env["AGENT_WATCHER_PHASE"]
            batchText = env["AGENT_WATCHER_BATCH"]
        }
        var batch: Int?
        if let batchText {
            guard let n = Int(batchText), n >= 1 else { throw UsageError("--batch expects a whole number ≥ 1, got '\(batchText)'") }
            batch = n
        }
        var body: JSONValue?
        if let bodyText {
            do { body = try JSONParser.parse(bodyText) } catch { throw UsageError("--body: not JSON: \(error)") }
        } else if let bodyFile {
            let bytes: [UInt8]
            if bodyFile == "-" {
                let stdin = FileDescriptor(owning: 0, path: "standard input")
                defer { _ = stdin.release() } // stdin is not ours to close
                bytes = try stdin.readAll()
            } else {
                bytes = try FileSystem.readFile(bodyFile)
            }
            do { body = try JSONParser.parse(bytes) } catch {
                throw SendError("\(bodyFile == "-" ? "standard input" : bodyFile): not JSON: \(error)")
            }
        }
        let from = fromArg ?? defaultSender(env)
        let id = idArg ?? freshID()
        let draft = AgentMessage(id: id, from: from, to: to, type: type, run: run, phase: phase, batch: batch,
                                 body: body, replyTo: replyTo)
        // The same check the daemon makes, so what is sent is never rejected for its form.
        let message: AgentMessage
        switch AgentMessage.parse(draft.json) {
        case .failure(let e): throw UsageError("cannot send this message: \(e)")
        case .success(let m): message = m
        }
        let layout = Layout(root: args.root)
        let path = try drop(message, layout: layout)
        if !wait { Console.out(message.id) }
        if try ControlClient(layout: layout).runningDaemon() == nil {
            Console.error("agent-watcher: \(path): queued; no daemon runs on \(layout.root), it is delivered when one starts")
            // Nothing can answer before a daemon starts: waiting with no limit would never end.
            if wait && timeout == nil {
                Console.error("agent-watcher: send --wait: not waiting, since no daemon runs to deliver it; give --timeout S to wait for one anyway")
                return 2
            }
        }
        guard wait else { return 0 }
        return try SendWait.wait(for: message.id, sender: message.from, layout: layout, timeoutSeconds: timeout)
    }

    /// Writes the envelope into `agents/<to>/tmp/<id>.json` (fsync), renames it into `new/`
    /// (never over another file) and syncs the folder. Returns the final path.
    static func drop(_ message: AgentMessage, layout: Layout) throws -> String {
        for dir in [layout.agentTmp(message.to), layout.agentNew(message.to), layout.agentCur(message.to)] {
            try FileSystem.createDirectory(dir)
        }
        let name = message.id + ".json"
        let tmp = layout.agentTmp(message.to) + "/" + name
        let dest = layout.agentNew(message.to) + "/" + name
        guard !FileSystem.exists(dest) else { throw SendError("\(dest) already exists: message id \(message.id) is taken") }
        let fd = try FileDescriptor.open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
        do {
            try fd.writeAll(message.encoded())
            try fd.fsync()
            try fd.close()
            try FileSystem.renameNoReplace(tmp, dest)
        } catch {
            if FileSystem.exists(tmp) { try FileSystem.unlink(tmp) }
            throw error
        }
        try FileSystem.fsyncDirectory(layout.agentNew(message.to))
        return dest
    }

    /// `<run>-<phase>-<batch>` inside an agent the watcher spawned, else `$USER`, else `cli`.
    static func defaultSender(_ env: [String: String]) -> String {
        if let r = env["AGENT_WATCHER_RUN"], let p = env["AGENT_WATCHER_PHASE"], let b = env["AGENT_WATCHER_BATCH"] {
            let name = "\(r)-\(p)-\(b)"
            if PlainName.check(name) == nil { return name }
        }
        if let user = env["USER"], PlainName.check(user) == nil { return user }
        return "cli"
    }

    /// `m-<UTC time>-<pid>-<random>`: unique without coordination.
    static func freshID() -> String {
        let (s, us) = Clock.realtime()
        let stamp = Clock.iso8601(seconds: s, microseconds: us).filter { $0.isNumber }
        return "m-\(stamp)-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }
}

struct SendError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
