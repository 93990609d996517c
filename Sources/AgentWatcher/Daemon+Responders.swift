import Foundation
import Glibc
import WatcherCore
import WatcherSystem

/// Responders: a message delivered to `agents/<responder>/` wakes the CLI the operator declared
/// for it (`responders` in a pipeline spec). The turn machine (``TurnBook``) decides; this file
/// carries out what it returns: the prompt file, the spawn (same launcher rules as batch agents:
/// posix_spawn, argv, own process group, token, subreaper), the answer read back from stdout or
/// `{reply_file}`, the reply posted into the sender's maildir under an id derived from the
/// message (so a crash never posts it twice), and the message acknowledged with reason `answered`.
extension Daemon {
    /// Every run's responders, by name; a name declared twice on the root stops the start.
    func loadResponders() throws {
        var homes: [String: RunContext] = [:]
        for ctx in runs.values.sorted(by: { $0.run < $1.run }) {
            for r in ctx.spec.responders {
                if let other = homes[r.name] {
                    throw SpecError(path: ctx.specPath, problems: ["responders: \"\(r.name)\" is already a responder of \(other.specPath)"])
                }
                if runs[r.name] != nil {
                    throw SpecError(path: ctx.specPath, problems: ["responders: \"\(r.name)\" is also a run's name"])
                }
                homes[r.name] = ctx
            }
        }
        responderHomes = homes
        turns.responders = [:]
        for ctx in homes.values {
            for r in ctx.spec.responders {
                turns.responders[r.name] = r
                turns.killGraceSeconds[r.name] = ctx.spec.killGraceSeconds
            }
        }
        for name in homes.keys {
            for dir in [layout.agentTmp(name), layout.agentNew(name), layout.agentCur(name), layout.responderLogs(name)] {
                try root.createDirectory(dir)
            }
        }
    }

    /// After replay: turns the previous life left are settled (their agents were killed with
    /// the rest), then messages delivered to a responder that no turn took yet (a crash between
    /// the delivery and the turn's record) are queued.
    func recoverTurns() throws {
        try executeTurns(turns.recover(now: Daemon.now()))
        for entry in messages.pending where turns.turn(entry.id) == nil && turns.responders[entry.to] != nil {
            if let m = ledgerMessage(entry) { turnInputs.append(.delivered(m, thread: messages.threadRoot(of: entry.id))) }
        }
    }

    /// The broker delivered `message` into its recipient's `new/`: a responder may take a turn.
    func responderMessageDelivered(_ message: AgentMessage) {
        guard turns.responders[message.to] != nil else { return }
        turnInputs.append(.delivered(message, thread: messages.threadRoot(of: message.id)))
    }

    /// Feeds queued facts to the turn machine and carries out its effects, until none is left.
    func drainTurnInputs() throws {
        while !turnInputs.isEmpty, stopping == nil {
            let round = turnInputs
            turnInputs.removeAll()
            let now = Daemon.now()
            var effects: [TurnEffect] = []
            for input in round { effects += turns.handle(input, now: now) }
            try executeTurns(effects)
        }
    }

    /// Write-ahead: every record is durable (one group commit) before any other effect.
    func executeTurns(_ effects: [TurnEffect]) throws {
        try log.append(effects.compactMap { if case .log(let e) = $0 { return e }; return nil })
        for effect in effects {
            switch effect {
            case .log(let e):
                if e.event == EventName.turnTransition, e.to == Turn.State.spawning.rawValue { FaultInjection.point("turn_spawn_intent") }
                if e.event == EventName.turnTransition, e.to == Turn.State.replied.rawValue { FaultInjection.point("turn_reply_logged") }
            case .spawn(let t, let sessionID):
                try spawnResponder(t, sessionID: sessionID)
            case .signal(_, let pid, let sig):
                let s = sig == .kill ? SIGKILL : SIGTERM
                signalDescendantsOutsideTheGroup(pid, s)
                signal(group: pid, s)
            case .postStaged(let replyID, let to):
                try postStaged(replyID, to: to)
            case .post(let m):
                try stage(m)
                try postStaged(m.id, to: m.to)
            case .acknowledge(let message, let reason):
                try acknowledgeAnswered(message, reason: reason)
            case .stuckReport(let thread, let responder, let waiting, let lastError):
                try writeStuckReport(thread, responder: responder, waiting: waiting, lastError: lastError)
            }
        }
    }

    // MARK: - Spawning

    func spawnResponder(_ t: Turn, sessionID: String?) throws {
        guard let spec = turns.responders[t.responder], let home = responderHomes[t.responder] else {
            turnInputs.append(.spawnFailed(message: t.message, attempt: t.attempt, error: "responder \(t.responder) is no longer in any spec"))
            return
        }
        let attempt = t.attempt
        do {
            let promptFile = layout.responderFile(t, attempt: attempt, "prompt.md")
            let replyFile = layout.responderFile(t, attempt: attempt, "reply")
            try root.createDirectory(layout.responderLogs(t.responder))
            try root.replace(promptFile, with: Array(try responderPrompt(t, spec: spec, home: home, replyFile: replyFile).utf8),
                             tempName: AtomicFile.nextTempName(for: "prompt"))
            // A reply file left by an attempt the watcher never read (a restart) is not this attempt's answer.
            try root.replace(replyFile, with: [], tempName: AtomicFile.nextTempName(for: "reply"))
            // Every value is a plain name the broker checked, a number, or a path the watcher chose.
            let values = ["prompt_file": promptFile, "reply_file": replyFile, "thread": t.thread, "message": t.message,
                          "from": t.sender, "turn": String(t.turn), "session_id": sessionID ?? ""]
            let argv = (spec.argv + (sessionID == nil ? [] : spec.resumeArgs)).map { Placeholders.fill($0, values) }
            let token = AgentToken.responderText(lifeTag: AtomicFile.tag ?? "", responder: t.responder, turn: t.turn, attempt: attempt)
            var env = root.childEnvironment(ProcessInfo.processInfo.environment, extra: spec.env, rootPath: layout.root, token: token)
            for k in ["AGENT_WATCHER_RUN", "AGENT_WATCHER_PHASE", "AGENT_WATCHER_BATCH", "AGENT_WATCHER_ATTEMPT", "AGENT_WATCHER_OUTPUT"] {
                env[k] = nil // a responder answers messages; it has no batch of its own
            }
            env["AGENT_WATCHER_RESPONDER"] = t.responder
            env["AGENT_WATCHER_THREAD"] = t.thread
            env["AGENT_WATCHER_MESSAGE"] = t.message
            env["AGENT_WATCHER_PROMPT_FILE"] = promptFile
            env["AGENT_WATCHER_REPLY_FILE"] = replyFile
            let refused = layout.responderLogs(t.responder) + "/refused"
            let out = try openAgentLog(layout.responderFile(t, attempt: attempt, "stdout"), run: nil, refusedFolder: refused)
            let err = try openAgentLog(layout.responderFile(t, attempt: attempt, "log"), run: nil, refusedFolder: refused)
            let stdoutStart = try out.stat().size, logStart = try err.stat().size
            var request = SpawnRequest(argv: argv, environment: env, workingDirectory: home.baseDir,
                                       stdinPath: spec.prompt == .stdin ? promptFile : nil,
                                       outputPath: layout.responderFile(t, attempt: attempt, "stdout"),
                                       errorPath: layout.responderFile(t, attempt: attempt, "log"))
            request.outputDescriptor = out.rawValue
            request.errorDescriptor = err.rawValue
            let pid: pid_t
            do { pid = try Spawner.spawn(request) } catch {
                try out.close()
                try err.close()
                throw error
            }
            try out.close()
            try err.close()
            FaultInjection.point("turn_spawned")
            children[pid] = .responder(message: t.message, attempt: attempt, stdoutStart: stdoutStart, logStart: logStart)
            trackAgentGroup(pid, nil, token: token, grace: home.spec.killGraceSeconds)
            turnInputs.append(.spawned(message: t.message, attempt: attempt, pid: pid))
        } catch let e as SystemError where Daemon.isOwnDiskFailure(e) {
            throw e // the watcher's own disk failed, not the responder
        } catch {
            turnInputs.append(.spawnFailed(message: t.message, attempt: attempt, error: "\(error)"))
        }
    }

    /// The turn's prompt: instructions, the thread so far, the message, how to answer.
    func responderPrompt(_ t: Turn, spec: ResponderSpec, home: RunContext, replyFile: String) throws -> String {
        let instructions = try spec.instructions.map {
            String(decoding: try FileSystem.readFile(RunContext.resolve($0, in: home.baseDir)), as: UTF8.self)
        } ?? ""
        guard let entry = messages.entry(t.message), let message = readMessage(entry) else {
            throw ResponderError("message \(t.message) cannot be read any more (\(messages.entry(t.message)?.path ?? "not in the log"))")
        }
        let earlier = messages.replyChain(of: t.message).dropLast().compactMap { id in messages.entry(id).flatMap(readMessage) }
        return TurnPrompt(instructions: instructions, earlier: Array(earlier), message: message, turn: t,
                          replyFile: spec.reply == .file ? replyFile : nil, maxThreadBytes: spec.maxThreadBytes).render()
    }

    /// A message's envelope from where the ledger says its file is (bodies live in the files).
    func readMessage(_ entry: MessageLedger.Entry) -> AgentMessage? {
        guard case .contents(let bytes, _) = SafeFile.readDropped(entry.path, beneath: root, limit: Daemon.maxMessageBytes),
              case .success(let m) = AgentMessage.parse(bytes: bytes), m.id == entry.id else { return nil }
        return m
    }

    /// A message as the ledger knows it (no body): enough for the turn machine.
    func ledgerMessage(_ e: MessageLedger.Entry) -> AgentMessage? {
        guard let type = AgentMessage.Kind(rawValue: e.type) else { return nil }
        return AgentMessage(id: e.id, from: e.from, to: e.to, type: type, run: e.run, phase: e.phase, batch: e.batch, replyTo: e.replyTo)
    }

    // MARK: - The answer

    /// A responder's agent exited: its answer is read, staged in the sender's `tmp/` under the
    /// derived reply id, and the turn machine told.
    func responderExited(_ message: String, attempt: Int, status: ExitStatus, stdoutStart: Int64, logStart: Int64) throws {
        guard let t = turns.turn(message), let spec = turns.responders[t.responder] else { return }
        var code: Int?
        if case .exited(let c) = status { code = Int(c) }
        func read(_ ending: String, from offset: Int64) -> [UInt8]? {
            let path = layout.responderFile(t, attempt: attempt, ending)
            guard root.exists(path) else { return nil }
            do { return try FileSystem.readTail(path, from: offset, limit: 16 << 20) } catch {
                Console.error("agent-watcher: \(path): cannot read the responder's output: \(error)")
                return nil
            }
        }
        let reply = spec.reply == .file ? read("reply", from: 0).flatMap { $0.isEmpty ? nil : $0 } : nil
        let logTail = String(decoding: (read("log", from: logStart) ?? []).suffix(64 << 10), as: UTF8.self)
        let answer: TurnAnswer
        switch ResponderAnswer.read(spec, status: status.description, exitCode: code, stdout: read("stdout", from: stdoutStart) ?? [],
                                    replyFile: reply, logTail: logTail) {
        case .answer(let text, let sessionID, let usage):
            let replyID = TurnReply.id(message: message, turn: t.turn)
            try stage(TurnReply.response(t, replyID: replyID, text: text))
            FaultInjection.point("turn_answer_read")
            answer = .reply(replyID: replyID, sessionID: sessionID, usage: usage)
        case .failure(let reason, let text, let transient, let usage):
            answer = .failure(reason: reason, message: text, transient: transient, usage: usage)
        }
        turnInputs.append(.exited(message: message, attempt: attempt, status: status.description, answer: answer))
    }

    // MARK: - Posting

    /// Whether a message with this id is known already: logged, or its file in the recipient's `new/` or `cur/`.
    func alreadyPosted(_ id: String, to: String) -> Bool {
        if messages.entry(id) != nil { return true }
        let name = id + ".json"
        if root.exists(layout.agentNew(to) + "/" + name) || root.exists(layout.agentFolder(to) + "/" + name) { return true }
        let cur = layout.agentCur(to)
        do {
            return try FileSystem.listDirectory(cur).contains { $0.name == name || $0.name.hasPrefix(name + ":2,") }
        } catch let e as SystemError where e.errno == .noSuchFile {
            return false
        } catch {
            Console.error("agent-watcher: \(cur): cannot list it to look for reply \(id): \(error)")
            return false
        }
    }

    /// Writes a reply into the recipient's `tmp/` (atomically; it replaces only an earlier
    /// staging of itself), unless it was posted already.
    func stage(_ m: AgentMessage) throws {
        guard !alreadyPosted(m.id, to: m.to) else { return }
        for dir in [layout.agentTmp(m.to), layout.agentNew(m.to), layout.agentCur(m.to)] { try root.createDirectory(dir) }
        try root.replace(layout.agentTmp(m.to) + "/" + m.id + ".json", with: m.encoded(), tempName: AtomicFile.nextTempName(for: "reply"))
    }

    /// Renames a staged reply into the recipient's `new/` (never over a file); the broker then
    /// receives and delivers it like any message.
    func postStaged(_ id: String, to: String) throws {
        let staged = layout.agentTmp(to) + "/" + id + ".json"
        guard root.exists(staged), !alreadyPosted(id, to: to) else { return }
        do { try root.renameNoReplace(staged, layout.agentNew(to) + "/" + id + ".json") } catch let e as SystemError where e.errno == .exists {
            return // posted before a crash
        }
        FaultInjection.point("turn_reply_posted")
    }

    /// The responder's message is filed: moved from its `new/` to `cur/`, `message.acknowledged` with `reason`.
    func acknowledgeAnswered(_ id: String, reason: String) throws {
        guard let entry = messages.entry(id), entry.status != .acknowledged else { return }
        var path = entry.path
        if root.exists(path), !path.hasPrefix(layout.agentCur(entry.to) + "/") {
            // nil: cur/ is reached through a link (refused with a record): the message stays where it is.
            do { path = try moveUnique(path, toFolder: layout.agentCur(entry.to), name: basename(path)) ?? path } catch let e as SystemError
                where e.errno == .noSuchFile {
            }
        }
        if let e = messages.acknowledge(id: id, path: path, reason: reason) { try log.append(e) }
    }

    func writeStuckReport(_ thread: String, responder: String, waiting: String, lastError: String?) throws {
        let chain = messages.entries.values.filter { messages.threadRoot(of: $0.id) == thread }
            .map { (depth: messages.replyChain(of: $0.id).count, entry: $0) } // a thread is (mostly) a chain of replies
            .sorted { ($0.depth, $0.entry.id) < ($1.depth, $1.entry.id) }.map(\.entry)
            .compactMap { readMessage($0) ?? ledgerMessage($0) }
        let text = StuckReport.render(thread: thread, responder: responder, waiting: waiting, lastError: lastError,
                                      limit: turns.responders[responder]?.maxTurnsPerThread ?? 0,
                                      turns: turns.turns(inThread: thread), transcript: chain)
        try root.createDirectory(layout.stuckReports)
        try root.replace(layout.stuckReport(thread), with: Array(text.utf8), tempName: AtomicFile.nextTempName(for: "stuck"))
    }

    // MARK: - Control

    /// `{"command":"resume","responder":NAME}` and `{"command":"cancel","thread":ID}`: answered
    /// here (`control.applied` / `control.rejected`), carried out by the turn machine.
    func turnControlMessage(_ path: String, _ value: JSONValue, _ status: FileStatus) throws -> Bool {
        let command = value["command"]?.stringValue
        let responder = value["responder"]?.stringValue, thread = value["thread"]?.stringValue
        guard (command == "resume" && value["responder"] != nil) || (command == "cancel" && value["thread"] != nil) else { return false }
        let source = "\(basename(path)):\(status.inode):\(status.mtime.seconds).\(status.mtime.nanoseconds)"
        if answeredControlFiles.contains(source) {
            _ = try moveUnique(path, toFolder: layout.control + "/cur", name: basename(path))
            return true
        }
        var details: [Event.Detail] = [.init("command", .string(command ?? ""))]
        if let responder { details.append(.init("responder", .string(responder))) }
        if let thread { details.append(.init("thread", .string(thread))) }
        if let id = value["id"]?.stringValue, PlainName.check(id) == nil { details.append(.init("id", .string(id))) }
        details.append(.init("source", .string(source)))
        var problem: String?
        var input: TurnInput?
        if let responder {
            if turns.responders[responder] == nil { problem = "no responder \"\(DerivedName.escaped(responder))\"" } else { input = .resume(responder: responder) }
        } else if let thread {
            if PlainName.check(thread) != nil || !turns.turns.values.contains(where: { $0.thread == thread }) && messages.entry(thread) == nil {
                problem = "no thread \"\(DerivedName.escaped(thread))\""
            } else {
                input = .cancelThread(thread)
            }
        }
        try log.append(Event(event: problem == nil ? EventName.controlApplied : EventName.controlRejected, reason: problem, details: details))
        answeredControlFiles.insert(source)
        _ = try moveUnique(path, toFolder: layout.control + "/cur", name: basename(path))
        if let input { turnInputs.append(input) }
        return true
    }
}

struct ResponderError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
