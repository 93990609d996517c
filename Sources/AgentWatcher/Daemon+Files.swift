import WatcherCore
import WatcherSystem

extension Daemon {
    func handleFileEvents(_ events: [WatchedFileEvent]) throws {
        for event in events {
            switch event {
            case .movedIn(let path): try fileArrived(path, renamed: true)
            case .closedWrite(let path): try fileArrived(path, renamed: false)
            case .found(let path): try fileArrived(path, renamed: false, found: true)
            case .directoryGone(let path):
                if path == layout.mailbox { throw MailboxGone(path: path) }
            case .overflow:
                try log.append(Event(event: EventName.watchOverflow))
                let found = try watcher.rescan()
                try log.append(Event(event: EventName.watchRescan, details: [.init("files", .int(found.count))]))
                try handleFileEvents(found)
            }
        }
    }

    /// `found`: listed by a scan, not announced by a close or rename, so possibly still being
    /// written: while the batch's own agent runs, its exit or its close decides, not the scan.
    func fileArrived(_ path: String, renamed: Bool, found: Bool = false) throws {
        // Events can repeat (a scan and a close for the same file) and the file may have been
        // moved on since: only what is still there counts.
        guard FileSystem.exists(path) || isSymlink(path) else { return }
        switch layout.place(of: path) {
        case .outbox(let run, let name):
            guard !Layout.isStagingName(name) else { return }
            guard runs[run] != nil else {
                return try rejectFile(path, into: layout.rejected(run), run: run, reason: "no pipeline defines run \(run)")
            }
            guard let id = BatchID.parseOutputFileName(name, run: run) else {
                return try rejectFile(path, into: layout.rejected(run), run: run,
                                      reason: "\(name) is not a batch output name (<phase>_batch_<k>.json)")
            }
            if found, let b = state.batch(id), b.agentAlive, b.state == .running || b.state == .spawning { return }
            inputs.append(.outputWritten(id, path: path, renamed: renamed))
        case .control(let name):
            guard !Layout.isStagingName(name) else { return }
            try controlMessage(path)
        case .agentMessage(let recipient, let name, let inNew):
            try agentMessageArrived(path, recipient: recipient, name: name, inNew: inNew, complete: renamed)
        case .agentAck(let recipient, let name):
            try agentMessageAcknowledged(path, recipient: recipient, name: name)
        case .other:
            return
        }
    }

    func controlMessage(_ path: String) throws {
        let rejected = layout.control + "/rejected"
        switch SafeFile.readDropped(path, limit: 1 << 20) {
        case .vanished:
            return
        case .refused(let r):
            try rejectFile(path, into: rejected, run: nil, reason: "control message refused: \(r)")
        case .failed(let e):
            try rejectFile(path, into: rejected, run: nil, reason: "control message unreadable: \(e)")
        case .contents(let bytes, _):
            let parsed: Result<ControlCommand, ControlMessageError>
            do {
                let value = try JSONParser.parse(bytes)
                if value["command"]?.stringValue == "stop" { return try stopMessage(path, value) }
                parsed = ControlCommand.parse(value)
            } catch {
                parsed = .failure(ControlMessageError("not JSON: \(error)"))
            }
            switch parsed {
            case .failure(let e):
                try rejectFile(path, into: rejected, run: nil, reason: "\(basename(path)): \(e)")
            case .success(let command):
                _ = try moveUnique(path, toFolder: layout.control + "/cur", name: basename(path))
                inputs.append(.control(command))
            }
        }
    }
}

extension Daemon {
    /// `{"command":"stop","agents":"kill"|"leave","id":...}`: the daemon itself stops.
    func stopMessage(_ path: String, _ value: JSONValue) throws {
        let mode = value["agents"]?.stringValue ?? AgentsOnStop.kill.rawValue
        let id = value["id"]?.stringValue
        guard let agents = AgentsOnStop(rawValue: mode) else {
            return try rejectFile(path, into: layout.control + "/rejected", run: nil,
                                  reason: "\(basename(path)): \"agents\" must be \"kill\" or \"leave\", got \"\(mode)\"")
        }
        _ = try moveUnique(path, toFolder: layout.control + "/cur", name: basename(path))
        var details: [Event.Detail] = [.init("command", .string("stop")), .init("agents", .string(agents.rawValue))]
        if let id { details.append(.init("id", .string(id))) }
        try log.append(Event(event: EventName.controlApplied, details: details))
        agentsOnStop = agents
        beginStop(reason: "stop command")
    }
}

struct MailboxGone: Error, CustomStringConvertible {
    var path: String
    var description: String { "the mailbox folder \(path) was removed or moved; stopping" }
}
