import Foundation
import Glibc
import Glibc
import WatcherCore
import WatcherSystem

extension Daemon {
    /// Write-ahead: every `.log` of the list is made durable (one group commit) before any
    /// other effect of the list is carried out.
    ///
    /// A list whose records all announce nothing that cannot be redone (``sharesNextSync``) and
    /// whose effects only read (validation) or log their own write-ahead record (a merge's
    /// `main.written`) is written without its own `fdatasync`: the next sync carries it.
    func execute(_ effects: [Effect]) throws {
        let events = effects.compactMap { if case .log(let e) = $0 { return e }; return nil }
        try log.append(events, sync: !Daemon.sharesNextSync(effects))
        for e in events where e.event == EventName.transition {
            switch e.to {
            case BatchState.validating.rawValue?: FaultInjection.point("claim")
            case BatchState.merged.rawValue?: FaultInjection.point("transition_logged")
            case BatchState.spawning.rawValue?: FaultInjection.point("spawn_intent")
            default: break
            }
        }
        // Archiving (moving merged and rejected files out of the outbox) is bookkeeping: it comes
        // after the spawns, so the next agent does not wait for its fsyncs. A crash in between is
        // repaired at the next start, which archives what it finds.
        let ordered = effects.filter { !$0.isArchive } + effects.filter(\.isArchive)
        var merges: [Merger.Job] = []
        var accepted: [AcceptedFile] = []
        for effect in ordered {
            if effect.isArchive, !merges.isEmpty { try merge(merges); merges = [] }
            switch effect {
            case .log:
                continue
            case .spawn(let id, let attempt, let feedback):
                try spawnAgent(id, attempt: attempt, feedback: feedback)
            case .validate(let id, let attempt, let path):
                try startValidation(id, attempt: attempt, path: path)
            case .merge(let id, let attempt, let path, let checksum):
                merges.append(Merger.Job(id: id, attempt: attempt, path: path, checksum: checksum))
            case .signal(let id, let pid, let signal):
                if cancelSlurmJob(pid, terminateOnly: signal != .kill) { continue }
                signalDescendantsOutsideTheGroup(pid, signal == .kill ? SIGKILL : SIGTERM)
                do { _ = try ProcessControl.signalGroup(pid, signal == .kill ? SIGKILL : SIGTERM) } catch {
                    try log.append(Event(event: "agent.signal_failed", run: id.run, phase: id.phase, batch: id.index,
                                         reason: "\(error)", details: [.init("pid", .int(Int(pid)))]))
                }
            case .archive(let id, let attempt, let path, .accepted(let checksum)):
                accepted.append(AcceptedFile(id: id, attempt: attempt, path: path, checksum: checksum, reason: "accepted"))
            case .archive(let id, let attempt, let path, let destination):
                try archive(id, attempt: attempt, path: path, destination: destination)
            case .settleDuplicate(let id, let path, let checksum):
                try settleDuplicate(id, path: path, mergedChecksum: checksum)
            case .rejectFile(let run, let path, let reason):
                try rejectFile(path, into: layout.rejected(run), run: run, reason: reason)
            case .runCompleted(let run):
                completedRuns.insert(run)
            case .rebuildMainFile(let command, let batches):
                if !merges.isEmpty { try merge(merges); merges = [] }
                let refusal = try rebuildMainFile(command, batches: batches)
                inputs.append(.mainFileRebuilt(command, batches: batches.count, refusal: refusal))
            }
        }
        if !merges.isEmpty { try merge(merges) }
        try accept(accepted)
    }

    /// Whether `effects` may be logged without a sync of their own. Lost at a power cut (with
    /// nothing after them, since every later sync covers them), they are redone by the next start:
    /// `→ validating` leaves the batch `running` or `pending` with its output there (validated at
    /// start, or found by the scan as a drop), `→ merging` leaves it `validating` (checked again),
    /// and `agent.exited` leaves a `running` batch whose agent is gone (its output validated, or
    /// the attempt failed as `watcher_restart`, as after any crash while the agent ran).
    static func sharesNextSync(_ effects: [Effect]) -> Bool {
        effects.allSatisfy { effect in
            switch effect {
            case .log(let e):
                if e.event == EventName.agentExited { return true }
                return e.event == EventName.transition
                    && (e.to == BatchState.validating.rawValue || e.to == BatchState.merging.rawValue)
            case .validate, .merge: return true // validation only reads; a merge logs main.written (synced) before it writes
            default: return false
            }
        }
    }

    func spawnAgent(_ id: BatchID, attempt: Int, feedback: ValidationReport?) throws {
        guard let ctx = runs[id.run] else { return }
        do {
            // The agents' log folder is the daemon's: a link planted there is moved aside.
            try makeOwnFolder(layout.agentLogs(id.run))
            try logLinksMovedAside()
            // The prompt replaces any file or link at its name; a folder there is moved aside.
            let promptFile = layout.promptFile(id, attempt: attempt)
            if try root.lstatIfPresent(promptFile)?.kind == .directory { try movePlantedAside(promptFile, run: id.run, what: "the prompt") }
            var request = try AgentLauncher(layout: layout, context: ctx, root: root,
                                            tempName: AtomicFile.nextTempName(for: "prompt"), lifeTag: AtomicFile.tag ?? "")
                .request(for: id, attempt: attempt, previous: previousAttempt(id, attempt: attempt - 1, liveReport: feedback),
                         budgetUSD: state.budgetLeftPerBatch(id.run))
            let logPath = layout.agentLog(id, attempt: attempt)
            let logFile = try openAgentLog(logPath, run: id.run)
            let logStart = try logFile.stat().size
            // A JSON agent's stdout is read when it exits (its own file); its stderr goes to the log.
            var stdoutFile: FileDescriptor?
            var stdoutStart: Int64 = 0
            if ctx.phase(id.phase).flatMap({ ctx.spec.agent(for: $0) })?.output.isJSON == true {
                let out = try openAgentLog(layout.agentStdout(id, attempt: attempt), run: id.run)
                stdoutStart = try out.stat().size
                request.outputDescriptor = out.rawValue
                request.errorDescriptor = logFile.rawValue
                stdoutFile = out
            } else {
                request.outputDescriptor = logFile.rawValue
            }
            var slurmJob: SlurmJob?
            if let agent = ctx.phase(id.phase).flatMap({ ctx.spec.agent(for: $0) }), agent.runner == .slurm {
                request = slurmRequest(request, id, attempt: attempt, settings: agent.slurm)
                slurmJob = try watchSlurmLog(id, attempt: attempt, logStart: logStart)
            }
            let pid = try Spawner.spawn(request)
            try logFile.close()
            try stdoutFile?.close()
            FaultInjection.point("spawned")
            children[pid] = .agent(id, attempt: attempt, logStart: logStart, stdoutStart: stdoutStart)
            trackAgentGroup(pid, id, token: AgentToken(lifeTag: AtomicFile.tag ?? "", id: id, attempt: attempt).text)
            // Read before the child is reaped (a zombie still has its stat), so it is always there.
            let startTime = ProcessControl.startTime(of: pid)
            if var slurmJob {
                slurmJob.startTime = startTime
                startedSlurmJob(slurmJob, pid: pid) // `running` is logged with the job id srun prints
            } else {
                inputs.append(.spawned(id, attempt: attempt, pid: pid, startTime: startTime))
            }
        } catch let e as SystemError where Daemon.isOwnDiskFailure(e) {
            throw e // the watcher's own disk (prompt file, agent log) failed, not the agent: stop, do not burn attempts
        } catch {
            // A program (or working folder) that does not exist is the operator's to fix: the run pauses.
            let missing = (error as? SystemError).map { $0.errno == .noSuchFile || $0.errno == .notDirectory } ?? false
            inputs.append(.spawnFailed(id, attempt: attempt, message: "\(error)", missing: missing))
        }
    }

    /// The agent's log, opened beneath the root for appending. Anything planted at its name that
    /// is not a plain file of the daemon's (a symbolic link, a hard link, a FIFO, with a reader or
    /// not, a socket, a folder) is moved aside into `refused/` with a record, never written through
    /// and never waited on, and a new log is made.
    /// `refusedFolder`: where a planted file goes (default: the run's `logs/agents/<run>/refused`).
    func openAgentLog(_ path: String, run: String?, refusedFolder: String? = nil) throws -> FileDescriptor {
        for _ in 0..<3 {
            do {
                let fd = try root.open(path, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_NOCTTY)
                let status = try fd.stat()
                if status.kind == .regular && status.linkCount == 1 { return fd }
                try fd.close()
            } catch let e as SystemError where e.errno == .tooManySymlinks && root.symlinkedComponent(of: path) == path {
                // a symbolic link at the name itself
            } catch let e as SystemError where e.errno == .isDirectory || e.errno == .noDeviceOrAddress {
                // a folder, or a FIFO or socket nobody reads
            }
            try movePlantedAside(path, run: run, into: refusedFolder, what: "the agent's log")
        }
        throw SystemError(operation: "open", path: path, errno: .exists)
    }

    /// Moves what someone planted at a name the daemon is about to write (a link, a special file,
    /// a folder) into `logs/agents/<run>/refused/` with a `file.rejected` record.
    func movePlantedAside(_ path: String, run: String?, into folder: String? = nil, what: String) throws {
        try rejectFile(path, into: folder ?? layout.agentLogs(run ?? "") + "/refused", run: run,
                       reason: "\(basename(path)) was planted where \(what) goes (a link, a special file or a folder); moved aside, not written through")
    }

    /// A failure of the disk the watcher writes to: it must stop, not count it against a batch.
    static func isOwnDiskFailure(_ e: SystemError) -> Bool {
        e.errno == .noSpace || e.errno == .io || e.errno == Errno(rawValue: EROFS) || e.errno == Errno(rawValue: EDQUOT)
    }

    /// Merges a round's validated batches, one read and one atomic replace per main file.
    func merge(_ jobs: [Merger.Job]) throws {
        let groups = Dictionary(grouping: jobs) { "\($0.id.run)\u{0}\($0.id.phase)" }
        for key in groups.keys.sorted() {
            guard let found = groups[key], let first = found.first, let ctx = runs[first.id.run],
                  let phase = ctx.phase(first.id.phase) else { continue }
            let mainPath = ctx.mainPath(phase)
            let group = found.map { job in
                var job = job
                if let v = validatedBatches.removeValue(forKey: job.id), v.attempt == job.attempt, v.checksum == job.checksum {
                    job.validated = v
                }
                return job
            }
            let results = try Merger(context: ctx, root: root).merge(
                group, phase: phase, limit: ctx.spec.maxFileBytes, known: mainFiles[mainPath],
                index: &mainIndexes[mainPath]) { record in
                try log.append(Event(event: EventName.mainWritten, run: ctx.run, phase: phase.id,
                                     details: [.init("path", .string(mainPath))] + record.details))
                mainFiles[mainPath] = record
            }
            for (job, result) in results {
                switch result {
                case .mainFileChanged(let message):
                    inputs.append(.mainFileChanged(job.id, attempt: job.attempt, message: message))
                case .merged(let items, let already):
                    inputs.append(.merged(job.id, attempt: job.attempt, checksum: job.checksum, items: items, alreadyMerged: already))
                case .changed:
                    inputs.append(.outputChanged(job.id, attempt: job.attempt))
                case .conflict(let report):
                    inputs.append(.mergeConflict(job.id, attempt: job.attempt, report: report))
                }
            }
        }
    }

    /// Moves a batch file out of the outbox. Never overwrites: a name taken gets a suffix.
    func archive(_ id: BatchID, attempt: Int, path: String, destination: ArchiveDestination) throws {
        guard root.exists(path) else { return }
        switch destination {
        case .accepted(let checksum):
            try accept([AcceptedFile(id: id, attempt: attempt, path: path, checksum: checksum, reason: "accepted")])
        case .rejected(let report):
            let folder = layout.rejected(id.run)
            guard try folderIsOurs(folder, for: path, run: id.run) else { return }
            guard let dest = try moveUnique(path, toFolder: folder, name: Daemon.attemptName(id, attempt: attempt),
                                            companions: { [Daemon.errorsPath(beside: $0)] }) else { return }
            do { try writeErrors(report, beside: dest) } catch let e as SystemError where Daemon.isRacedUnderRoot(e) {
                Console.error("agent-watcher: \(Daemon.errorsPath(beside: dest)) not written: \(folder) was changed meanwhile: \(e)")
            }
            try log.append(Event(event: EventName.fileArchived, run: id.run, phase: id.phase, batch: id.index,
                                 attempt: attempt, reason: "rejected",
                                 details: [.init("from", .string(path)), .init("path", .string(dest)),
                                           .init("errors", .int(report.errors.count))]))
        }
    }

    /// A merged batch file to move into `accepted/` (`reason`: the `file.archived` record's).
    struct AcceptedFile {
        var id: BatchID
        var attempt: Int?
        var path: String
        var checksum: String
        var reason: String
    }

    /// Archives a round's merged batch files: for each, `<name>.sha256` first (`O_EXCL`, no
    /// fsync of its own: its checksum is in the batch's `merged` record, and the next start
    /// repairs a missing or torn one, `repairAcceptedChecksums`), then the file (a rename,
    /// no fsync); then one fsync of each `accepted/` folder, then their `file.archived` records.
    /// A crash before the fsync leaves a file in the outbox (archived again at the next start)
    /// or in `accepted/` without its record (the record says where it went, not that it moved).
    func accept(_ files: [AcceptedFile]) throws {
        var folders: [String] = []
        var records: [Event] = []
        for file in files where root.exists(file.path) {
            let folder = layout.accepted(file.id.run)
            guard try folderIsOurs(folder, for: file.path, run: file.id.run) else { continue }
            var dest = folder + "/" + file.id.outputFileName
            var n = 1
            let checksum = file.checksum
            func sum(_ dest: String) -> [UInt8] { Daemon.checksumLine(checksum, name: basename(dest)) }
            /// A `.sha256` with exactly these bytes and no file beside it: ours, left by a crash
            /// between the two steps; used again rather than replaced or skipped.
            func ownSum(_ dest: String) -> Bool {
                guard let fd = try? root.open(dest + ".sha256", O_RDONLY | O_NONBLOCK), let s = try? fd.stat(),
                      s.kind == .regular, s.size == Int64(sum(dest).count) else { return false } // anything else is not ours
                return (try? fd.readAll()) == sum(dest)
            }
            while root.exists(dest) || (root.exists(dest + ".sha256") && !ownSum(dest)) {
                n += 1
                dest = folder + "/" + file.id.outputFileName + ".\(n)"
            }
            if !root.exists(dest + ".sha256") { try root.createNew(dest + ".sha256", with: sum(dest), durable: false) }
            try root.renameNoReplace(file.path, dest, syncingFolder: false)
            FaultInjection.point("archive")
            if !folders.contains(folder) { folders.append(folder) }
            records.append(Event(event: EventName.fileArchived, run: file.id.run, phase: file.id.phase, batch: file.id.index,
                                 attempt: file.attempt, reason: file.reason,
                                 details: [.init("from", .string(file.path)), .init("path", .string(dest))]))
        }
        for folder in folders { try root.openDirectory(folder).fsync() }
        try log.append(records)
    }

    /// The line of `<name>.sha256` (the `sha256sum` format).
    static func checksumLine(_ checksum: String, name: String) -> [UInt8] { Array("\(checksum)  \(name)\n".utf8) }

    /// The report beside a rejected file, as a new file: `moveUnique` chose a name whose report
    /// name was free, and a file someone put there since is not replaced.
    func writeErrors(_ report: ValidationReport, beside path: String) throws {
        try root.createAtomically(Daemon.errorsPath(beside: path), with: report.json.prettySerialized() + [0x0A],
                                  tempName: AtomicFile.nextTempName(for: "errors"))
    }

    func settleDuplicate(_ id: BatchID, path: String, mergedChecksum: String?) throws {
        guard root.exists(path) else { return }
        guard let limit = runs[id.run]?.spec.maxFileBytes else { return }
        let bytes: [UInt8]
        switch SafeFile.readDropped(path, beneath: root, limit: limit) {
        case .contents(let b, _): bytes = b
        case .vanished: return
        case .refused(let refusal):
            return try rejectFile(path, into: layout.rejected(id.run), run: id.run,
                                  reason: "batch \(id) is already merged; this file was not read: \(refusal)")
        case .failed(let error):
            return try rejectFile(path, into: layout.rejected(id.run), run: id.run,
                                  reason: "batch \(id) is already merged; this file could not be read: \(error)")
        }
        if let mergedChecksum, SHA256.hex(bytes) == mergedChecksum {
            // Merged before a crash, archived only now; or the same file dropped twice.
            let already = root.exists(layout.accepted(id.run) + "/" + id.outputFileName)
            try accept([AcceptedFile(id: id, attempt: nil, path: path, checksum: mergedChecksum,
                                     reason: already ? "duplicate_of_merged" : "accepted")])
        } else {
            try rejectFile(path, into: layout.rejected(id.run), run: id.run,
                           reason: "batch \(id) is already merged with other content; the merged items were kept")
        }
    }

    /// Moves a file aside with a `<name>.error` note beside it and logs `file.rejected`. The file
    /// and its note get names that are free (never replacing a kept file) and fit in 255 bytes.
    /// A file in a folder reached through a symbolic link is not moved: the record says so.
    func rejectFile(_ path: String, into folder: String, run: String?, reason: String) throws {
        if let link = root.symlinkedComponent(of: path), link != path {
            return try refuseFolder(link, run: run, about: path)
        }
        let shown = DerivedName.escaped(basename(path))
        for attempt in 1...3 {
            guard root.exists(path) else { return }
            do {
                guard try folderIsOurs(folder, for: path, run: run) else { return }
                try root.createDirectory(folder)
                guard let dest = try moveUnique(path, toFolder: folder, name: basename(path), companions: { [$0 + ".error"] }) else { return }
                var said = reason
                do {
                    try root.createAtomically(dest + ".error", with: Array((reason + "\n").utf8), tempName: AtomicFile.nextTempName(for: "error"))
                } catch let e as SystemError where Daemon.isRacedUnderRoot(e) {
                    said += " (no note beside it: \(folder) was changed meanwhile: \(e))"
                }
                return try log.append(Event(event: EventName.fileRejected, run: run, reason: said,
                                            details: [.init("from", .string(path)), .init("path", .string(dest)), .init("name", .string(shown))]))
            } catch let e as SystemError where Daemon.isRacedUnderRoot(e) {
                // Someone moved, removed or replaced the folder as it was used: again, then leave it.
                guard attempt == 3 else { continue }
                return try log.append(Event(event: EventName.fileRejected, run: run, reason: reason + " (left where it is: \(e))",
                                            details: [.init("from", .string(path)), .init("name", .string(shown))]))
            }
        }
    }

    /// A failure that someone else's change under the root explains (a folder moved, removed or
    /// replaced by a link or a file as the daemon used it): the file's business, never a reason
    /// to stop the daemon.
    static func isRacedUnderRoot(_ e: SystemError) -> Bool {
        e.errno == .noSuchFile || e.errno == .tooManySymlinks || e.errno == .notDirectory
    }

    /// Moves `path` into `folder` as `name`, or `name.2`, `name.3` ... when that name or one of
    /// its `companions` (the note or report to be written beside it) is taken. Every name is
    /// shortened with a hash to fit in 255 bytes with its longest companion. A folder reached
    /// through a symbolic link is refused (`folder.refused`) and nil returned: nothing moved.
    func moveUnique(_ path: String, toFolder folder: String, name: String,
                    companions: (String) -> [String] = { _ in [] }) throws -> String? {
        guard try folderIsOurs(folder, for: path, run: nil) else { return nil }
        let reserve = 16 + 12 // ".errors.json" or ".error", and a ".<n>" suffix
        let base = DerivedName.fitting(name, reserving: reserve)
        var n = 1
        var dest = folder + "/" + base
        var remade = 0
        while true {
            if !companions(dest).contains(where: { root.exists($0) }) {
                do {
                    try root.renameNoReplace(path, dest)
                    return dest
                } catch let e as SystemError where e.errno == .exists {
                } catch let e as SystemError where Daemon.isRacedUnderRoot(e) {
                    // Raced by someone else under the root: the file or the folder was moved,
                    // removed or replaced meanwhile. Never a reason to stop the daemon.
                    guard root.exists(path) else { return nil } // the file is gone: nothing to move
                    guard try folderIsOurs(folder, for: path, run: nil) else { return nil } // a link now: refused, logged
                    guard remade < 3 else { throw e }
                    remade += 1
                    try root.createDirectory(folder) // removed meanwhile: made again
                    continue
                }
            }
            n += 1
            dest = folder + "/" + base + ".\(n)"
        }
    }

    /// `folder` made beneath the root (with the folders above it) when it is reached without a
    /// symbolic link; otherwise `folder.refused` is logged and false returned.
    func ensureFolder(_ folder: String, for path: String, run: String?) throws -> Bool {
        guard try folderIsOurs(folder, for: path, run: run) else { return false }
        try root.createDirectory(folder)
        return true
    }

    /// Whether `folder` (an archive the daemon writes into) is reached without a symbolic link;
    /// if not, logs `folder.refused` naming the link and leaves `path` where it is.
    func folderIsOurs(_ folder: String, for path: String, run: String?) throws -> Bool {
        guard let link = root.symlinkedComponent(of: folder) else { return true }
        try refuseFolder(link, run: run, about: path)
        return false
    }

    /// Logs (once per link) that a folder the daemon uses is a symbolic link it does not follow.
    func refuseFolder(_ link: String, run: String?, about path: String) throws {
        guard refusedFolders.insert(link).inserted else { return }
        let target = (try? FileSystem.readLink(link)) ?? "?" // only for the message
        try log.append(Event(event: EventName.folderRefused, run: run,
                             reason: "\(link) is a symbolic link (to \(DerivedName.escaped(target))); the watcher never follows one "
                                + "under its root: nothing in it is read, moved or written. Replace it with a real folder.",
                             details: [.init("path", .string(link)), .init("file", .string(path))]))
        Console.error("agent-watcher: \(DerivedName.escaped(link)) is a symbolic link; refused (see folder.refused in the log)")
    }
}

func basename(_ path: String) -> String {
    path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
}

extension Effect {
    var isArchive: Bool { if case .archive = self { return true }; return false }
}
