import Glibc
import WatcherCore
import WatcherSystem

/// Merges a validated batch file into its phase's main file: splice the batch's raw item
/// bytes into the main file's bytes (no re-serialisation), then atomically replace the file.
struct Merger {
    let context: RunContext
    /// The root the batch files are read beneath.
    let root: RootDirectory

    enum Result {
        case merged(items: Int, alreadyMerged: Bool)
        /// The file is not what was validated any more.
        case changed
        case conflict(ValidationReport)
        /// The main file is not what the daemon last wrote, or cannot be parsed: not the batch's
        /// fault; nothing was written.
        case mainFileChanged(String)
    }

    /// The command that rebuilds a phase's main file from its accepted batch files.
    static func rebuildCommand(_ run: String, _ phase: String) -> String {
        "agent-watcher retry \(run) \(phase) --rebuild"
    }

    /// One validated batch file to merge.
    struct Job {
        var id: BatchID
        var attempt: Int
        var path: String
        var checksum: String
        /// What validation read and checked, when the daemon still has it in memory.
        var validated: Validated? = nil
    }

    /// A batch file as its validation found it: the checksum and items of the bytes it read,
    /// and the file's status before reading. The merge takes the items as they are while the
    /// file is still that file (same device, inode, size and mtime), instead of reading,
    /// hashing and checking it a second time.
    struct Validated {
        var attempt: Int
        var checksum: String
        var status: FileStatus
        var items: [BatchItem]

        /// Whether `now` (an lstat of the same path beneath the root) is the file that was read.
        func isSameFile(_ now: FileStatus) -> Bool {
            now.kind == .regular && now.device == status.device && now.inode == status.inode
                && now.size == status.size && now.mtime == status.mtime
        }
    }

    /// Merges every job (all of one phase) into the phase's main file with one atomic replace:
    /// a group commit for merges. All of them land, or none does.
    ///
    /// The usual case costs what the disk costs: while `index` is the file's (same device,
    /// inode, size, mtime), batches that go after every item already there are planned from the
    /// index alone (``MainFileIndex/append(_:batchIndex:)``), and the new file is the
    /// unchanged prefix copied in the kernel, then the new items and the closing bytes; the
    /// file's size and CRC-32 (the `main.written` check) come from the index. Anything else (no
    /// index, a file that is not the one indexed, a batch going in the middle, ids already
    /// there) reads the whole file, checks it against `known` and merges with
    /// ``MergePlanner/plan(_:)``, as before; the index is then rebuilt from the new bytes.
    ///
    /// - Parameters:
    ///   - known: the last `main.written` record of the file (see `MainFileRecord`); a file that
    ///     matches neither its base nor what it wrote is left alone and every job gets `.mainFileChanged`.
    ///   - index: the daemon's index of the main file (nil: none yet), updated to the file written.
    ///   - beforeWrite: called with the new file's facts before the replace (to log them first).
    func merge(_ jobs: [Job], phase: PipelineSpec.PhaseSpec, limit: Int, known: MainFileRecord? = nil,
               index: inout MainFileIndex?,
               beforeWrite: (MainFileRecord) throws -> Void = { _ in }) throws -> [(Job, Result)] {
        let mainPath = context.mainPath(phase)
        let rebuild = Merger.rebuildCommand(context.run, phase.id)
        let source: FileDescriptor?
        do { source = FileSystem.exists(mainPath) ? try FileSystem.openRegular(mainPath) : nil } catch let e as FileSystem.NotARegularFile {
            // A FIFO, a folder ... at the main file's name: never waited on, never rebuilt over.
            index = nil
            return jobs.map { ($0, .mainFileChanged("\(e). Move it away and `resume`; or `\(rebuild)` (it is kept aside)")) }
        }
        let identity = try source.map { MainFileIdentity(try $0.stat()) }
        // A main file reached through a symbolic link is read through it but replaced as a name
        // (as before): never appended through the link, so never trusted.
        let linked = try source != nil && FileSystem.lstat(mainPath).kind == .symlink
        // The index, moved out of `index` while it is the file's, so that appending to it does not
        // copy it (its ids): the index after the round's appends.
        var current: MainFileIndex?
        if identity != nil, index?.identity == identity, !linked {
            current = index
            index = nil
        }
        var found: [UInt8]? // the whole file, once read
        if current == nil { found = try source?.readAll() }
        let facts = current?.facts ?? found.map(MainFileFacts.init(of:))
        if let problem = MainFileRecord.problem(path: mainPath, facts: facts, record: known, rebuild: rebuild) {
            index = nil
            return jobs.map { ($0, .mainFileChanged(problem)) }
        }
        if current == nil, let found, !linked {
            current = scanIndex(found, phase: phase, identity: identity)
        }
        let start = current.map { (insertAt: $0.insertAt, closing: $0.closing) } // where the file's tail begins
        var appended: [UInt8] = [] // the new items written at `start.insertAt`
        var main: [UInt8]? // the whole new file, once a batch needs the full merge
        var changed = false
        var results: [(Job, Result)] = []
        for job in jobs.sorted(by: { $0.id.index < $1.id.index }) {
            guard let items = batchItems(job, phase: phase, limit: limit) else {
                results.append((job, .changed))
                continue
            }
            if main == nil, let block = current?.append(items, batchIndex: job.id.index) {
                appended += block
                changed = true
                results.append((job, .merged(items: items.count, alreadyMerged: false)))
                continue
            }
            if main == nil {
                let bytes = try found ?? source.map { try $0.readAll() } ?? []
                if let start, !appended.isEmpty {
                    main = Array(bytes[..<start.insertAt]) + appended + start.closing
                } else {
                    main = bytes
                }
            }
            let (result, newMain) = planned(items, job, phase: phase, main: main!, mainPath: mainPath)
            if let newMain {
                main = newMain
                changed = true
            }
            results.append((job, result))
        }
        if results.contains(where: { if case .mainFileChanged = $0.1 { return true }; return false }) {
            return results.map { ($0.0, { if case .merged = $0 { return .mainFileChanged("\(mainPath) cannot be merged into") }; return $0 }($0.1)) }
        }
        let hook = FaultInjection.atomicStep
        if !changed {
            index = current
        } else if let main {
            try beforeWrite(MainFileRecord(base: facts, written: MainFileFacts(of: main)))
            let status = try AtomicFile.replace(mainPath, prefix: 0, of: nil, then: main, faultHook: hook)
            index = scanIndex(main, phase: phase, identity: MainFileIdentity(status))
        } else if let start, let current, let source {
            let status: FileStatus
            if phase.output.strategy == .jsonl {
                // Whole lines at the end, in place: the record says where and what, first.
                try beforeWrite(MainFileRecord(base: facts, written: current.facts,
                                               append: .init(offset: start.insertAt, bytes: appended)))
                status = try Merger.append(appended, to: mainPath, at: start.insertAt)
            } else {
                try beforeWrite(MainFileRecord(base: facts, written: current.facts))
                status = try AtomicFile.replace(mainPath, prefix: start.insertAt, of: source,
                                                then: appended + start.closing, faultHook: hook)
            }
            index = current
            index?.identity = MainFileIdentity(status)
        }
        return results
    }

    /// Writes `lines` (whole lines) at `offset`, the end of the jsonl main file, in one write,
    /// and makes them durable (fdatasync); returns the file's new status. Its `main.written`
    /// record (with the append) is durable before: a start that finds the lines cut short cuts
    /// the file back to `offset` (Daemon+Recovery.swift), and the batch is merged again.
    static func append(_ lines: [UInt8], to path: String, at offset: Int) throws -> FileStatus {
        let fd = try FileDescriptor.open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK)
        FaultInjection.point("append_logged") // the record is durable, nothing written yet
        let torn = FaultInjection.isDue("append_torn")
        try fd.pwriteAll(torn ? Array(lines.prefix(lines.count / 2)) : lines, offset: Int64(offset))
        FaultInjection.point("append_torn") // a crash in the middle of the write (half of it written)
        try fd.fdatasync()
        let status = try fd.stat()
        try fd.close()
        return status
    }

    /// The index of `bytes`, or nil when they cannot be scanned: then every merge takes the full
    /// path, whose plan says what is wrong with the file.
    func scanIndex(_ bytes: [UInt8], phase: PipelineSpec.PhaseSpec, identity: MainFileIdentity?) -> MainFileIndex? {
        do throws(MergePlanError) {
            var index = try MainFileIndex.scan(bytes, strategy: phase.output.strategy, itemsKey: phase.output.key,
                                               idField: phase.output.idField, batchOf: { context.batchOf($0) })
            index.identity = identity
            return index
        } catch {
            return nil
        }
    }

    /// The batch's items: those validation kept while the file is unchanged; otherwise (after a
    /// restart, or the file is another one now) read, hashed and checked again. nil: the file
    /// is not what was validated.
    func batchItems(_ job: Job, phase: PipelineSpec.PhaseSpec, limit: Int) -> [BatchItem]? {
        // An lstat that fails (the file gone, a folder swapped) is not an error here: the read
        // below meets the same cause and says `.changed`.
        if let kept = job.validated, let now = try? root.lstat(job.path), kept.isSameFile(now) {
            return kept.items
        }
        guard case .contents(let bytes, _) = SafeFile.readDropped(job.path, beneath: root, limit: limit),
              SHA256.hex(bytes) == job.checksum else { return nil }
        let checked = BatchChecks.check(bytes: bytes, strategy: phase.output.strategy, itemsKey: phase.output.key,
                                        idField: phase.output.idField, expectedIds: nil)
        return checked.report.valid ? checked.items : nil
    }

    /// The result for one batch, and the main file's new bytes when it changes them.
    func mergeOne(_ job: Job, phase: PipelineSpec.PhaseSpec, main: [UInt8], mainPath: String,
                  limit: Int) throws -> (Result, [UInt8]?) {
        guard let items = batchItems(job, phase: phase, limit: limit) else { return (.changed, nil) }
        return planned(items, job, phase: phase, main: main, mainPath: mainPath)
    }

    /// The full merge of one batch's items into `main` (``MergePlanner/plan(_:)``).
    func planned(_ items: [BatchItem], _ job: Job, phase: PipelineSpec.PhaseSpec, main: [UInt8],
                 mainPath: String) -> (Result, [UInt8]?) {
        let request = MergeRequest(strategy: phase.output.strategy, itemsKey: phase.output.key,
                                   idField: phase.output.idField, main: main,
                                   template: phase.output.template?.text, batchIndex: job.id.index,
                                   batchItems: items, batchOf: { context.batchOf($0) })
        let outcome: MergeOutcome
        do { outcome = try MergePlanner.plan(request) } catch {
            // Not the batch's fault, and no retry fixes it: say which file is broken and how.
            return (.mainFileChanged("\(mainPath) cannot be parsed (\(error)): repair or restore it, then `resume`; "
                + "or `\(Merger.rebuildCommand(context.run, phase.id))` re-merges every accepted batch file into a new one. "
                + "The batch is not blamed and uses no attempt"), nil)
        }
        switch outcome {
        case .write(let newBytes, let inserted):
            return (.merged(items: inserted, alreadyMerged: false), newBytes)
        case .alreadyMerged:
            return (.merged(items: 0, alreadyMerged: true), nil)
        case .conflict(let conflicts):
            return (.conflict(ValidationReport.from(errors: conflicts.map {
                ValidationError(type: ValidationErrorType.conflict, item: $0.id,
                                message: "\($0.id) is already in \(mainPath) with other content: \($0.reason)",
                                suggestion: "keep the merged content of \($0.id), or leave the item out")
            })), nil)
        }
    }
}

extension MainFileIdentity {
    /// The identity of the file `status` describes.
    init(_ status: FileStatus) {
        self.init(device: status.device, inode: status.inode, size: Int(status.size),
                  mtimeSeconds: status.mtime.seconds, mtimeNanoseconds: status.mtime.nanoseconds)
    }
}
