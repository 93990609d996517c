import Glibc
import WatcherCore
import WatcherSystem

extension Daemon {
    /// Finds every process started by an earlier daemon on this root and kills their process
    /// groups, then waits until they are gone. An agent the log names is known by its pid and
    /// start time (even one that cleared its environment); its descendants, even those that called
    /// `setsid`, and an agent whose pid the log never got (the daemon died between `posix_spawn`
    /// and logging it) by the token they carry (`AgentToken`). A reused pid, or a process that
    /// merely carries `AGENT_WATCHER_ROOT` (an operator's shell with it exported), is never
    /// touched, and is reported once (see `PreviousLifeProcess`). Returns `pid/pgid` of what was killed.
    /// `sparingTokens`: the tokens of adopted attempts (a Slurm task on this host carries its
    /// `srun`'s environment, in a group of its own).
    func stopAgentsOfPreviousLife(sparing spared: Set<pid_t> = [], sparingTokens: Set<String> = []) -> [String] {
        let rootID = AgentToken.rootID(device: root.device, inode: root.inode)
        let logged = Dictionary(state.loggedAgents().map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
        var found: [PreviousLifeProcess]
        do {
            found = try ProcessControl.processes { env in
                env[AgentToken.rootVariable] == rootID || env["AGENT_WATCHER_ROOT"] == layout.root
            }.map { PreviousLifeProcess(pid: $0.pid, startTime: ProcessControl.startTime(of: $0.pid), environment: $0.environment) }
        } catch {
            Console.error("agent-watcher: cannot look for agents of a previous run in /proc: \(error)")
            return []
        }
        // A logged agent whose environment says nothing (cleared, or unreadable) is looked at too.
        for pid in logged.keys.sorted() where !found.contains(where: { $0.pid == pid }) {
            guard let start = ProcessControl.startTime(of: pid) else { continue } // gone
            found.append(PreviousLifeProcess(pid: pid, startTime: start, environment: ProcessControl.environment(of: pid) ?? [:]))
        }
        var pids: [pid_t] = []
        var strangers: [(pid: pid_t, why: String)] = []
        for p in found.sorted(by: { $0.pid < $1.pid }) {
            switch p.verdict(logged: logged[p.pid], rootID: rootID, rootPath: layout.root, lives: tempTags) {
            case .ours where sparingTokens.contains(p.environment[AgentToken.variable] ?? ""): continue
            case .ours: pids.append(p.pid)
            case .stranger(let why): strangers.append((p.pid, why))
            case .unrelated: continue
            }
        }
        if !strangers.isEmpty {
            Console.error("agent-watcher: left alone \(strangers.count) process(es) that are not this daemon's: "
                + strangers.map(\.why).joined(separator: "; "))
            strangersLeftAlone = strangers.map(\.pid)
        }
        guard !pids.isEmpty else { return [] }
        let ownGroup = getpgrp()
        var killed: [String] = []
        var waiters: [FileDescriptor] = []
        for pid in pids {
            let group = ProcessControl.processGroup(of: pid)
            if let group, spared.contains(group) { continue } // an adopted agent's group
            // The group too, when its leader is one of ours (an agent's own group).
            let groupIsOurs = group.map { g in pids.contains(g) } ?? false
            do {
                if let group, groupIsOurs, group != ownGroup { _ = try ProcessControl.signalGroup(group, SIGKILL) }
                _ = try ProcessControl.signal(pid, SIGKILL)
                killed.append("\(pid)/\(group.map(String.init) ?? "?")")
                waiters.append(try ProcessControl.openPIDFD(pid))
            } catch let e as SystemError where e.errno == .noSuchProcess {
                continue
            } catch {
                Console.error("agent-watcher: cannot kill agent \(pid) of a previous run: \(error)")
            }
        }
        // Orphans of a dead daemon get no grace: SIGKILL, then their one lifetime's reaping time.
        // A killed process's pidfd becomes readable when it has exited.
        var life = ChildLifetime()
        _ = life.kill(reason: "watcher_restart", now: Daemon.now())
        var pending = waiters
        while !pending.isEmpty {
            let now = Daemon.now()
            guard let deadline = life.nextDeadline, now < deadline else {
                Console.error("agent-watcher: \(pending.count) agent process(es) of a previous run did not exit within \(Int(ChildLifetime.reapSeconds)) s of SIGKILL")
                break
            }
            let ms = Int32(now.milliseconds(until: deadline)) + 1
            do {
                let ready = Set(try Poller.wait(pending.map(\.rawValue), timeoutMilliseconds: ms))
                pending.removeAll { ready.contains($0.rawValue) }
            } catch {
                Console.error("agent-watcher: waiting for old agents to exit: \(error)")
                break
            }
        }
        return killed
    }
}

extension Daemon {
    /// For runs whose spec says `"agentsOnRestart": "adopt"`: agents of the previous life that
    /// still run their batch's current attempt (checked by the environment they were started
    /// with, so a reused pid is never taken for one) are kept and watched through a pidfd.
    /// Returns the adopted batches with their agents' pids (= process groups).
    func adoptAgentsOfPreviousLife() -> [BatchID: pid_t] {
        var adopted: [BatchID: pid_t] = [:]
        for (id, pid) in state.agentsInFlight() {
            guard let ctx = runs[id.run], ctx.spec.agentsOnRestart == .adopt,
                  let b = state.batch(id), b.state == .running,
                  b.startTime == nil || ProcessControl.startTime(of: pid) == b.startTime, // not a reused pid
                  let env = ProcessControl.environment(of: pid),
                  AgentToken.isOurs(env, rootID: AgentToken.rootID(device: root.device, inode: root.inode), lives: tempTags),
                  let token = env[AgentToken.variable],
                  token.hasSuffix("/\(id.run)/\(id.phase)/\(id.index)/\(b.attempt)"),
                  env["AGENT_WATCHER_RUN"] == id.run,
                  env["AGENT_WATCHER_PHASE"] == id.phase, env["AGENT_WATCHER_BATCH"] == String(id.index),
                  env["AGENT_WATCHER_ATTEMPT"] == String(b.attempt) else { continue }
            do {
                let fd = try ProcessControl.openPIDFD(pid)
                adoptedAgents[fd.rawValue] = AdoptedAgent(id: id, pid: pid, exited: fd)
                trackAgentGroup(pid, id, token: token)
                adopted[id] = pid
            } catch {
                Console.error("agent-watcher: cannot adopt agent \(pid) of \(id), it will be stopped: \(error)")
            }
        }
        return adopted
    }

    /// An adopted agent's pidfd became readable: it has exited (its status is not ours to know).
    func adoptedAgentExited(_ fd: Int32) {
        guard let agent = adoptedAgents.removeValue(forKey: fd) else { return }
        if slurmJobs[agent.pid] != nil { slurmStepEnded(agent.pid) }
        leaderExited(agent.pid)
        guard stopping == nil else { return }
        let out = layout.outputPath(agent.id)
        inputs.append(.agentExited(agent.id, pid: agent.pid, status: "exited (adopted: status unknown)", success: true,
                                   outputPath: FileSystem.exists(out) ? out : nil))
    }
}

/// An agent started by the daemon's previous life and kept running across the restart.
struct AdoptedAgent {
    var id: BatchID
    var pid: pid_t
    var exited: FileDescriptor
}

extension Daemon {
    /// A jsonl main file whose last `main.written` record is an in-place append that was cut
    /// short (the daemon died in the write, or the machine before the lines reached the disk) is
    /// cut back to the logged offset: the file as it was before the batch, which the batch's
    /// merge (still `merging` in the log) then does again. A `main.repaired` record is logged
    /// first. An append not begun or complete is left as it is; a file longer than the append or
    /// shorter than its offset is not ours to cut, and its merge says what is wrong with it.
    /// Returns the paths cut back.
    func repairTornAppends() throws -> [String] {
        var repaired: [String] = []
        for (path, record) in mainFiles.sorted(by: { $0.key < $1.key }) {
            guard let append = record.append, let status = try FileSystem.lstatIfPresent(path), status.kind == .regular else { continue }
            let repair = try record.repair(size: Int(status.size)) {
                let fd = try FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
                try fd.seek(to: Int64(append.offset))
                return CRC32.checksum(try fd.readAll())
            }
            guard case .truncate(let size) = repair else { continue }
            try log.append(Event(event: EventName.mainRepaired, details: [
                .init("path", .string(path)), .init("from", .int(Int(status.size))), .init("to", .int(size)),
                .init("reason", .string("torn_append")),
            ]))
            let fd = try FileDescriptor.open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK)
            try fd.truncate(to: Int64(size))
            try fd.fsync()
            try fd.close()
            repaired.append(path)
        }
        return repaired
    }

    /// A merged file's `accepted/<name>.sha256` is written without an fsync of its own (its
    /// checksum is in the batch's `merged` record): after a power cut it may be missing, empty
    /// or short. At start, each one that is missing or not the size of its line is written again
    /// from the log, when the file beside it still has the checksum its batch was merged with;
    /// a file that does not is left as it is, and said.
    func repairAcceptedChecksums() throws {
        for (run, ctx) in runs.sorted(by: { $0.key < $1.key }) {
            let folder = layout.accepted(run)
            guard root.symlinkedComponent(of: folder) == nil, let entries = try root.lstatIfPresent(folder).map({ _ in
                try root.listDirectory(folder) }) else { continue }
            let names = Set(entries.map(\.name))
            for entry in entries where entry.kind == .regular && entry.isUTF8 && !entry.name.hasSuffix(".sha256") {
                let name = entry.name
                // `<phase>_batch_<k>.json`, or `.json.<n>` for a later file of the same batch.
                let base = name.hasSuffix(".json") ? name : String(name[..<(name.lastIndex(of: ".") ?? name.endIndex)])
                guard let id = BatchID.parseOutputFileName(base, run: run), let merged = state.batch(id)?.mergedChecksum else { continue }
                let sumPath = folder + "/" + name + ".sha256"
                let line = Daemon.checksumLine(merged, name: name)
                if names.contains(name + ".sha256"), try root.lstatIfPresent(sumPath)?.size == Int64(line.count) { continue }
                guard case .contents(let bytes, _) = SafeFile.readDropped(folder + "/" + name, beneath: root, limit: ctx.spec.maxFileBytes),
                      SHA256.hex(bytes) == merged else {
                    Console.error("agent-watcher: \(sumPath) is missing or torn and \(name) is not the file its batch was merged with; left as it is")
                    continue
                }
                try root.replace(sumPath, with: line, tempName: AtomicFile.nextTempName(for: "sha256"))
                Console.error("agent-watcher: \(sumPath) was missing or torn (a power cut before it reached the disk); written again from the log")
            }
        }
    }
}
