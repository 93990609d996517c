import Foundation
import Glibc
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
            case .undecodable(let folder, let rawName):
                try refuseUndecodableName(folder, rawName)
            case .unwatchable(let path, let errno):
                try log.append(Event(event: EventName.watchFailed, reason: Daemon.unwatchableReason(path, errno),
                                     details: [.init("path", .string(path)),
                                               .init("errno", .string(errno.map { "\($0.rawValue)" } ?? "depth")),
                                               .init("scan_every_s", .int(Int(Daemon.unwatchedScanSeconds)))]))
                Console.error("agent-watcher: \(Daemon.unwatchableReason(path, errno))")
                if nextUnwatchedScan == nil {
                    nextUnwatchedScan = Daemon.now().adding(seconds: Daemon.unwatchedScanSeconds)
                }
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
        // moved on since: only what is still there counts. (A batch output's own lstat below
        // is that check: one lookup before its claim is logged, not two.)
        let place = layout.place(of: path)
        if case .outbox = place {} else { guard root.exists(path) else { return } }
        if case .other = place, let link = root.symlinkedComponent(of: path), path.hasPrefix(layout.mailbox + "/"),
           path.dropFirst(layout.mailbox.count + 1).split(separator: "/").count <= 3 {
            // A symbolic link where a folder of the mailbox goes (outbox/, rejected/, a run's folder ...).
            return try refuseFolder(link, run: nil, about: path)
        }
        switch place {
        case .outbox(let run, let name):
            guard !Layout.isStagingName(name) else { return }
            guard runs[run] != nil else {
                return try rejectFile(path, into: layout.rejected(run), run: run, reason: "no pipeline defines run \(run)")
            }
            guard let id = BatchID.parseOutputFileName(name, run: run) else {
                return try rejectFile(path, into: layout.rejected(run), run: run,
                                      reason: "\(name) is not a batch output name (<phase>_batch_<k>.json)")
            }
            // A link or special file is refused at once; a regular file found by a scan while its
            // agent runs is left to the agent's close or exit.
            let status: FileStatus
            do { status = try root.lstat(path) } catch {
                return // nothing there, or not reachable beneath the root without a link: moved on meanwhile
            }
            let plain = status.kind == .regular && status.linkCount == 1
            if found, plain, let b = state.batch(id), b.agentAlive, b.state == .running || b.state == .spawning { return }
            if !plain { return inputs.append(.outputWritten(id, path: path, renamed: true)) }
            if try archiveIfAlreadyJudged(id, path: path) { return }
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
        guard !controlFilesToFile.contains(where: { $0.path == path }) else { return } // seen twice in one round (a scan and an event)
        let rejected = layout.control + "/rejected"
        switch SafeFile.readDropped(path, beneath: root, limit: 1 << 20) {
        case .vanished:
            return
        case .refused(let r):
            try rejectFile(path, into: rejected, run: nil, reason: "control message refused: \(r)")
        case .failed(let e):
            try rejectFile(path, into: rejected, run: nil, reason: "control message unreadable: \(e)")
        case .contents(let bytes, let status):
            let parsed: Result<ControlCommand, ControlMessageError>
            do {
                let value = try JSONParser.parse(bytes)
                if value["command"]?.stringValue == "stop" { return try stopMessage(path, value, status) }
                if try turnControlMessage(path, value, status) { return }
                parsed = ControlCommand.parse(value)
            } catch {
                parsed = .failure(ControlMessageError("not JSON: \(error)"))
            }
            switch parsed {
            case .failure(let e):
                try rejectFile(path, into: rejected, run: nil, reason: "\(basename(path)): \(e)")
            case .success(var command):
                command.source = "\(basename(path)):\(status.inode):\(status.mtime.seconds).\(status.mtime.nanoseconds)"
                if let source = command.source, answeredControlFiles.contains(source) {
                    // Answered before a crash that came before its move to cur/: not again.
                    _ = try moveUnique(path, toFolder: layout.control + "/cur", name: basename(path))
                    return
                }
                // Moved to cur/ only once its answer is durable in the log (see drainInputs),
                // so a crash in between leaves it in new/ to be applied by the next start.
                inputs.append(.control(command))
                controlFilesToFile.append((path, command.source))
            }
        }
    }
}

extension Daemon {
    /// A file whose failed attempt was logged but which a crash kept from being moved to
    /// `rejected/` is the same file (same checksum) found again: it goes where it was meant to go,
    /// instead of being judged a second time as a new attempt.
    func archiveIfAlreadyJudged(_ id: BatchID, path: String) throws -> Bool {
        guard let b = state.batch(id), b.state == .retryWait || b.state == .failed,
              let judged = b.failedChecksum, let limit = runs[id.run]?.spec.maxFileBytes,
              case .contents(let bytes, _) = SafeFile.readDropped(path, beneath: root, limit: limit), SHA256.hex(bytes) == judged
        else { return false } // anything else is judged as usual (and refused there if it must be)
        let report = b.lastReport ?? ValidationReport.from(errors: [ValidationError(
            type: b.lastReason ?? "validation_failed", item: nil,
            message: "this file failed attempt \(b.attempt) before the watcher restarted; the event log has its errors",
            suggestion: nil)])
        try archive(id, attempt: b.attempt, path: path, destination: .rejected(report))
        return true
    }

    /// `{"command":"stop","agents":"kill"|"leave","id":...}`: the daemon itself stops.
    func stopMessage(_ path: String, _ value: JSONValue, _ status: FileStatus) throws {
        let source = "\(basename(path)):\(status.inode):\(status.mtime.seconds).\(status.mtime.nanoseconds)"
        if answeredControlFiles.contains(source) { // answered before a crash: do not stop again
            _ = try moveUnique(path, toFolder: layout.control + "/cur", name: basename(path))
            return
        }
        let mode = value["agents"]?.stringValue ?? AgentsOnStop.kill.rawValue
        let id = value["id"]?.stringValue
        guard let agents = AgentsOnStop(rawValue: mode) else {
            return try rejectFile(path, into: layout.control + "/rejected", run: nil,
                                  reason: "\(basename(path)): \"agents\" must be \"kill\" or \"leave\", got \"\(mode)\"")
        }
        var details: [Event.Detail] = [.init("command", .string("stop")), .init("agents", .string(agents.rawValue)),
                                       .init("source", .string(source))]
        if let id { details.append(.init("id", .string(id))) }
        try log.append(Event(event: EventName.controlApplied, details: details))
        _ = try moveUnique(path, toFolder: layout.control + "/cur", name: basename(path))
        agentsOnStop = agents
        beginStop(reason: "stop command")
    }
}

extension Daemon {
    /// How often folders that cannot be watched are scanned: `AGENT_WATCHER_UNWATCHED_SCAN_SECONDS`,
    /// else 60 s.
    static let unwatchedScanSeconds: Double = {
        let v = SpawnRequest.currentEnvironment()["AGENT_WATCHER_UNWATCHED_SCAN_SECONDS"].flatMap(Double.init) ?? 60
        return v > 0 ? v : 60
    }()

    /// What a person needs to know about a folder that cannot be watched: the limit's name,
    /// its value and how to raise it.
    static func unwatchableReason(_ path: String, _ errno: Errno?) -> String {
        func value(_ file: String) -> String {
            guard let bytes = try? FileSystem.readFile(file) else { return "unknown" } // only for the message
            return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let shown = DerivedName.escaped(path)
        let scan = "it is scanned every \(Int(unwatchedScanSeconds)) s instead until it can be watched; the rest of the mailbox is watched"
        switch errno?.rawValue {
        case nil:
            return "\(shown) is more than \(DirectoryWatcher.defaultMaxDepth) folders below the mailbox: not watched and not looked into (deeper trees are refused)"
        case ENOSPC:
            return "\(shown) cannot be watched: the inotify watch limit is reached (fs.inotify.max_user_watches = "
                + "\(value("/proc/sys/fs/inotify/max_user_watches")), user namespace limit user.max_inotify_watches = "
                + "\(value("/proc/sys/user/max_inotify_watches"))); raise it with "
                + "`sudo sysctl fs.inotify.max_user_watches=<more>` (not a full disk); " + scan
        case ENAMETOOLONG:
            return "\(shown) cannot be watched: its path is \(path.utf8.count) bytes, over the kernel's PATH_MAX of 4096 "
                + "(or a name is over 255 bytes); use shorter names; " + scan
        case EMFILE:
            return "\(shown) cannot be watched: the inotify instance limit fs.inotify.max_user_instances = "
                + "\(value("/proc/sys/fs/inotify/max_user_instances")) is reached; raise it with "
                + "`sudo sysctl fs.inotify.max_user_instances=<more>`; " + scan
        default:
            return "\(shown) cannot be watched: \(errno.map(\.description) ?? "?"); " + scan
        }
    }
}

extension Daemon {
    /// A file whose name is not UTF-8: moved under a name that is (`name-not-utf8-<hash>`) into the
    /// folder's rejected/ with a note and a `file.rejected` record showing the name escaped
    /// (`\xff`); in a folder that has no rejected/ it stays, and the record says so. Once per name.
    func refuseUndecodableName(_ folder: String, _ rawName: [UInt8]) throws {
        let shown = DerivedName.shown(rawName)
        guard refusedRawNames.insert(folder + "/" + shown).inserted else { return }
        let rejected: String?
        switch layout.place(of: folder + "/x") {
        case .outbox(let run, _): rejected = layout.rejected(run)
        case .control: rejected = layout.control + "/rejected"
        case .agentMessage(let recipient, _, _): rejected = layout.agentRejected(recipient)
        default: rejected = nil
        }
        let reason = "the file name \"\(shown)\" is not UTF-8; rename it to a UTF-8 name to have it read"
        guard let rejected, try folderIsOurs(rejected, for: folder, run: nil) else {
            return try log.append(Event(event: EventName.fileRejected, reason: reason + " (left where it is)",
                                        details: [.init("from", .string(folder + "/" + shown)), .init("name", .string(shown))]))
        }
        try root.createDirectory(rejected)
        var dest = rejected + "/name-not-utf8-" + String(SHA256.hex(rawName).prefix(16))
        var n = 1
        while root.exists(dest) || root.exists(dest + ".error") {
            n += 1
            dest = rejected + "/name-not-utf8-" + String(SHA256.hex(rawName).prefix(16)) + ".\(n)"
        }
        do { try root.renameNoReplace(inFolder: folder, rawName: rawName, to: dest) } catch Errno.noSuchFile {
            return // gone meanwhile
        }
        try root.createAtomically(dest + ".error", with: Array((reason + "\n").utf8), tempName: AtomicFile.nextTempName(for: "error"))
        try log.append(Event(event: EventName.fileRejected, reason: reason,
                             details: [.init("from", .string(folder + "/" + shown)), .init("path", .string(dest)),
                                       .init("name", .string(shown))]))
    }
}

struct MailboxGone: Error, CustomStringConvertible {
    var path: String
    var description: String { "the mailbox folder \(path) was removed or moved; stopping" }
}
