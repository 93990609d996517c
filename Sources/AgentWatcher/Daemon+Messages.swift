import Foundation
import WatcherCore
import WatcherSystem

/// The message broker. Agents drop envelopes into `mailbox/agents/<recipient>/` (write in
/// `tmp/`, rename into `new/`; a file written straight into `new/` or the recipient's folder is
/// accepted too). The daemon reads each one safely, logs `message.received`, delivers it (a file
/// in the recipient's folder moves into `new/`; one in `new/` stays) with `message.delivered`,
/// logs `message.acknowledged` when the recipient moves it to `cur/`, and
/// `message.unacknowledged` once when that has not happened within the ack timeout. Messages to
/// `watcher` are consumed by the daemon: a `batch.done` completes its batch's output at once.
extension Daemon {
    /// Larger envelopes are refused unread.
    static let maxMessageBytes = 4 << 20
    /// A message written in place that does not parse yet is read again after this quiet time.
    static let messageSettleMilliseconds = 200
    /// The environment variable that sets the acknowledgement timeout, in seconds.
    public static let ackTimeoutVariable = "AGENT_WATCHER_ACK_TIMEOUT"
    public static let defaultAckTimeoutSeconds = 300.0

    /// The ack timeout: the daemon's option, else `AGENT_WATCHER_ACK_TIMEOUT`, else 300 s.
    func resolveAckTimeout() throws -> Double {
        if let s = options.ackTimeoutSeconds {
            guard s > 0, s.isFinite else { throw MessageConfigError("ackTimeoutSeconds: expected a number > 0, got \(s)") }
            return s
        }
        guard let text = ProcessInfo.processInfo.environment[Daemon.ackTimeoutVariable] else {
            return Daemon.defaultAckTimeoutSeconds
        }
        guard let s = Double(text.trimmingCharacters(in: .whitespaces)), s > 0, s.isFinite else {
            throw MessageConfigError("\(Daemon.ackTimeoutVariable): expected a number of seconds > 0, got \"\(text)\"")
        }
        return s
    }

    /// Folds the logged `message.*` records (replay) and starts the pending acknowledgement deadlines.
    /// After replay (which folds `message.*` records into the ledger): deadlines restart.
    func resumeMessages() {
        let (s, us) = Clock.realtime()
        messages.resume(now: Daemon.now(), wallClockSeconds: Double(s) + Double(us) / 1e6)
    }

    /// Reads the message settings (a bad ack timeout stops the start here, before the lock is
    /// taken) and creates `mailbox/agents/` with the watcher's own maildir.
    func prepareMessages() throws {
        messages = MessageLedger(ackTimeoutSeconds: try resolveAckTimeout())
        for dir in [layout.agents, layout.agentTmp(AgentMessage.watcherName), layout.agentNew(AgentMessage.watcherName),
                    layout.agentCur(AgentMessage.watcherName)] {
            try makeOwnFolder(dir)
        }
    }

    /// A file in `agents/<recipient>/` or `agents/<recipient>/new/`. `complete` is true when it
    /// was renamed in (or its settle window has passed): it is then read as it is.
    func agentMessageArrived(_ path: String, recipient: String, name: String, inNew: Bool, complete: Bool) throws {
        guard !Layout.isStagingName(name) else { return }
        // Our own delivery (a rename into new/), a repeated event, or a file the log already knows.
        if let id = messages.id(atPath: path), messages.entry(id)?.status != .received { return }
        let rejected = layout.agentRejected(recipient)
        let bytes: [UInt8]
        switch SafeFile.readDropped(path, beneath: root, limit: Daemon.maxMessageBytes) {
        case .vanished:
            messages.forgetRecheck(path)
            return
        case .refused(let r):
            messages.forgetRecheck(path)
            return try rejectFile(path, into: rejected, run: nil, reason: "\(name): message refused: the file \(r)")
        case .failed(let e):
            messages.forgetRecheck(path)
            return try rejectFile(path, into: rejected, run: nil, reason: "\(name): message unreadable: \(e)")
        case .contents(let b, _):
            bytes = b
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            if !complete {
                // Possibly still being written: read it again after the settle window or the next write.
                messages.recheck(path, at: Daemon.now().adding(milliseconds: Daemon.messageSettleMilliseconds))
                return
            }
            messages.forgetRecheck(path)
            return try rejectFile(path, into: rejected, run: nil, reason: "\(name): message envelope is not JSON: \(error)")
        }
        messages.forgetRecheck(path)
        let message: AgentMessage
        switch AgentMessage.parse(value) {
        case .failure(let e):
            return try rejectFile(path, into: rejected, run: nil, reason: "\(name): invalid message envelope: \(e)")
        case .success(let m):
            message = m
        }
        guard message.to == recipient else {
            return try rejectFile(path, into: rejected, run: nil, reason:
                "\(name): message \"\(message.id)\" is addressed to \"\(message.to)\" but was dropped in \(layout.agentFolder(recipient))/")
        }
        if let known = messages.entry(message.id) {
            guard known.status == .received, known.path == path else {
                return try rejectFile(path, into: rejected, run: nil, reason:
                    "\(name): duplicate message id \"\(message.id)\": a message with this id was already received (\(known.path))")
            }
            // Received before a restart, not delivered yet: deliver it now.
        } else {
            try log.append(messages.receive(message, path: path))
        }
        if recipient == AgentMessage.watcherName {
            return try consume(message, path: path)
        }
        var delivered = path
        if !inNew {
            // A `new/` that is a symbolic link is refused: the message stays `received` where it is.
            guard try ensureFolder(layout.agentNew(recipient), for: path, run: nil) else { return }
            do {
                guard let moved = try moveUnique(path, toFolder: layout.agentNew(recipient), name: name) else { return }
                delivered = moved
            } catch let e as SystemError where e.errno == .noSuchFile {
                return // taken away meanwhile: it stays `received` in the log, and is delivered if it comes back
            }
        }
        _ = try ensureFolder(layout.agentCur(recipient), for: path, run: nil) // for the recipient's acknowledgement
        if let e = messages.deliver(id: message.id, path: delivered, now: Daemon.now()) {
            try log.append(e)
            responderMessageDelivered(message)
        }
        signalBatchDone(message)
    }

    /// A message to the watcher: acted on, moved to `agents/watcher/cur/`, acknowledged.
    func consume(_ message: AgentMessage, path: String) throws {
        guard try ensureFolder(layout.agentCur(AgentMessage.watcherName), for: path, run: nil) else { return }
        let dest: String
        do {
            guard let moved = try moveUnique(path, toFolder: layout.agentCur(AgentMessage.watcherName), name: basename(path)) else { return }
            dest = moved
        } catch let e as SystemError where e.errno == .noSuchFile {
            return // taken away meanwhile
        }
        if let e = messages.acknowledge(id: message.id, path: dest, consumedBy: AgentMessage.watcherName) {
            try log.append(e)
        }
        signalBatchDone(message)
    }

    /// `batch.done` is an extra completion signal: the batch's output (if there) is complete now.
    func signalBatchDone(_ message: AgentMessage) {
        guard message.type == .batchDone, let id = message.batchID else { return }
        let out = layout.outputPath(id)
        inputs.append(.batchDone(id, outputPath: root.exists(out) ? out : nil))
    }

    /// A file moved into `agents/<recipient>/cur/`: the recipient acknowledged a message.
    func agentMessageAcknowledged(_ path: String, recipient: String, name: String) throws {
        guard !Layout.isStagingName(name) else { return }
        if let id = messages.id(atPath: path) {
            if let e = messages.acknowledge(id: id, path: path) { try log.append(e) }
            return
        }
        // Maildir readers may add flags to the name (`<name>:2,S`).
        let stem = name.range(of: ":2,").map { String(name[..<$0.lowerBound]) } ?? name
        if let id = messages.id(atPath: layout.agentNew(recipient) + "/" + stem)
            ?? messages.id(atPath: layout.agentFolder(recipient) + "/" + stem) {
            if let e = messages.acknowledge(id: id, path: path) { try log.append(e) }
            return
        }
        // Renamed on the way, or moved to cur/ before the daemon read it: go by the envelope.
        // What cannot be read is the recipient's own business: cur/ is its archive.
        guard case .contents(let bytes, _) = SafeFile.readDropped(path, beneath: root, limit: Daemon.maxMessageBytes),
              case .success(let message) = AgentMessage.parse(bytes: bytes), message.to == recipient else { return }
        if let known = messages.entry(message.id) {
            guard known.status != .acknowledged else { return }
        } else {
            try log.append(messages.receive(message, path: path))
            signalBatchDone(message)
        }
        if let e = messages.acknowledge(id: message.id, path: path) { try log.append(e) }
    }

    /// Fires due settle rechecks and acknowledgement deadlines.
    func fireMessageDeadlines() throws {
        let now = Daemon.now()
        guard let next = messages.nextDeadline(), next <= now else { return }
        for path in messages.dueRechecks(now: now) {
            guard root.exists(path) else { continue }
            if case .agentMessage(let recipient, let name, let inNew) = layout.place(of: path) {
                try agentMessageArrived(path, recipient: recipient, name: name, inNew: inNew, complete: true)
            }
        }
        try log.append(messages.tick(now: now))
    }
}

struct MessageConfigError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
