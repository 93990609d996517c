import Foundation
import Glibc
import WatcherCore
import WatcherSystem

extension Daemon {
    /// Write-ahead: every `.log` of the list is made durable (one group commit) before any
    /// other effect of the list is carried out.
    func execute(_ effects: [Effect]) throws {
        let events = effects.compactMap { if case .log(let e) = $0 { return e }; return nil }
        try log.append(events)
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
                do { _ = try ProcessControl.signalGroup(pid, signal == .kill ? SIGKILL : SIGTERM) } catch {
                    try log.append(Event(event: "agent.signal_failed", run: id.run, phase: id.phase, batch: id.index,
                                         reason: "\(error)", details: [.init("pid", .int(Int(pid)))]))
                }
            case .archive(let id, let attempt, let path, let destination):
                try archive(id, attempt: attempt, path: path, destination: destination)
            case .settleDuplicate(let id, let path, let checksum):
                try settleDuplicate(id, path: path, mergedChecksum: checksum)
            case .rejectFile(let run, let path, let reason):
                try rejectFile(path, into: layout.rejected(run), run: run, reason: reason)
            case .runCompleted(let run):
                completedRuns.insert(run)
            }
        }
        if !merges.isEmpty { try merge(merges) }
    }

    func spawnAgent(_ id: BatchID, attempt: Int, feedback: ValidationReport?) throws {
        guard let ctx = runs[id.run] else { return }
        do {
            let request = try AgentLauncher(layout: layout, context: ctx)
                .request(for: id, attempt: attempt, previous: previousAttempt(id, attempt: attempt - 1, liveReport: feedback),
                         budgetUSD: state.budgetLeftPerBatch(id.run))
            let logPath = layout.agentLog(id, attempt: attempt)
            let logStart = FileSystem.exists(logPath) ? try FileSystem.stat(logPath).size : 0
            let stdoutPath = layout.agentStdout(id, attempt: attempt)
            let stdoutStart = FileSystem.exists(stdoutPath) ? try FileSystem.stat(stdoutPath).size : 0
            let pid = try Spawner.spawn(request)
            FaultInjection.point("spawned")
            children[pid] = .agent(id, attempt: attempt, logStart: logStart, stdoutStart: stdoutStart)
            trackAgentGroup(pid, id)
            inputs.append(.spawned(id, attempt: attempt, pid: pid))
        } catch let e as SystemError where Daemon.isOwnDiskFailure(e) {
            throw e // the watcher's own disk (prompt file, agent log) failed, not the agent: stop, do not burn attempts
        } catch {
            // A program (or working folder) that does not exist is the operator's to fix: the run pauses.
            let missing = (error as? SystemError).map { $0.errno == .noSuchFile || $0.errno == .notDirectory } ?? false
            inputs.append(.spawnFailed(id, attempt: attempt, message: "\(error)", missing: missing))
        }
    }

    /// A failure of the disk the watcher writes to: it must stop, not count it against a batch.
    static func isOwnDiskFailure(_ e: SystemError) -> Bool {
        e.errno == .noSpace || e.errno == .io || e.errno == Errno(rawValue: EROFS) || e.errno == Errno(rawValue: EDQUOT)
    }

    /// Merges a round's validated batches, one read and one atomic replace per main file.
    func merge(_ jobs: [Merger.Job]) throws {
        let groups = Dictionary(grouping: jobs) { "\($0.id.run)\u{0}\($0.id.phase)" }
        for key in groups.keys.sorted() {
            guard let group = groups[key], let first = group.first, let ctx = runs[first.id.run],
                  let phase = ctx.phase(first.id.phase) else { continue }
            for (job, result) in try Merger(context: ctx).merge(group, phase: phase, limit: ctx.spec.maxFileBytes) {
                switch result {
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
        guard FileSystem.exists(path) || isSymlink(path) else { return }
        switch destination {
        case .accepted(let checksum):
            try accept(id, attempt: attempt, path: path, checksum: checksum, reason: "accepted")
        case .rejected(let report):
            let dest = try moveUnique(path, toFolder: layout.rejected(id.run), name: Daemon.attemptName(id, attempt: attempt))
            try writeErrors(report, beside: dest)
            try log.append(Event(event: EventName.fileArchived, run: id.run, phase: id.phase, batch: id.index,
                                 attempt: attempt, reason: "rejected",
                                 details: [.init("from", .string(path)), .init("path", .string(dest)),
                                           .init("errors", .int(report.errors.count))]))
        }
    }

    /// Archives a merged batch file: `<name>.sha256` first, then the file, so a crash between
    /// the two leaves the file in the outbox and the next start archives it again.
    func accept(_ id: BatchID, attempt: Int?, path: String, checksum: String, reason: String) throws {
        let folder = layout.accepted(id.run)
        var dest = folder + "/" + id.outputFileName
        var n = 1
        while FileSystem.exists(dest) {
            n += 1
            dest = folder + "/" + id.outputFileName + ".\(n)"
        }
        try AtomicFile.replace(dest + ".sha256", with: Array("\(checksum)  \(basename(dest))\n".utf8))
        try FileSystem.renameNoReplace(path, dest)
        try FileSystem.fsyncDirectory(folder)
        FaultInjection.point("archive")
        try log.append(Event(event: EventName.fileArchived, run: id.run, phase: id.phase, batch: id.index,
                             attempt: attempt, reason: reason,
                             details: [.init("from", .string(path)), .init("path", .string(dest))]))
    }

    func writeErrors(_ report: ValidationReport, beside path: String) throws {
        try AtomicFile.replace(Daemon.errorsPath(beside: path), with: report.json.prettySerialized() + [0x0A])
    }

    func settleDuplicate(_ id: BatchID, path: String, mergedChecksum: String?) throws {
        guard FileSystem.exists(path) else { return }
        let bytes = try FileSystem.readFile(path)
        if let mergedChecksum, SHA256.hex(bytes) == mergedChecksum {
            // Merged before a crash, archived only now; or the same file dropped twice.
            let already = FileSystem.exists(layout.accepted(id.run) + "/" + id.outputFileName)
            try accept(id, attempt: nil, path: path, checksum: mergedChecksum, reason: already ? "duplicate_of_merged" : "accepted")
        } else {
            try rejectFile(path, into: layout.rejected(id.run), run: id.run,
                           reason: "batch \(id) is already merged with other content; the merged items were kept")
        }
    }

    /// Moves a file aside with a `<name>.error` note beside it and logs `file.rejected`.
    func rejectFile(_ path: String, into folder: String, run: String?, reason: String) throws {
        guard FileSystem.exists(path) || isSymlink(path) else { return }
        try FileSystem.createDirectory(folder)
        let dest = try moveUnique(path, toFolder: folder, name: basename(path))
        try AtomicFile.replace(dest + ".error", with: Array((reason + "\n").utf8))
        try log.append(Event(event: EventName.fileRejected, run: run, reason: reason,
                             details: [.init("from", .string(path)), .init("path", .string(dest))]))
    }

    func isSymlink(_ path: String) -> Bool {
        do { return try FileSystem.lstat(path).kind == .symlink } catch { return false }
    }

    func moveUnique(_ path: String, toFolder folder: String, name: String) throws -> String {
        var n = 1
        var dest = folder + "/" + name
        while true {
            do {
                try FileSystem.renameNoReplace(path, dest)
                try FileSystem.fsyncDirectory(folder)
                return dest
            } catch let e as SystemError where e.errno == .exists {
                n += 1
                dest = folder + "/" + name + ".\(n)"
            }
        }
    }
}

func basename(_ path: String) -> String {
    path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
}

extension Effect {
    var isArchive: Bool { if case .archive = self { return true }; return false }
}
