import Foundation
import Glibc
import WatcherCore
import WatcherSystem

/// Another daemon holds the root's lock.
public struct AlreadyRunning: Error, CustomStringConvertible {
    public var lockPath: String
    public var pid: String?
    public var description: String {
        "another agent-watcher is already running on this root (lock \(lockPath) is held"
            + (pid.map { " by pid \($0)" } ?? "") + "); stop it first or use another --root"
    }
}

extension Daemon {
    /// Takes the root, loads the runs, replays the log, settles what the previous life left,
    /// then starts watching. Nothing is spawned before the first scan's files are looked at.
    func start() throws {
        try acquireRoot()
        try loadRuns()
        try loadResponders()
        let (contents, brokenPath, initial) = try replayLog()
        let (adopted, killed, temps) = try settlePreviousLife()
        let repaired = try repairTornAppends()
        let recoveryEffects = state.recover(now: Daemon.now(), adopted: Set(adopted.keys),
                                            cleanStop: previousLifeStoppedCleanly) { [layout] id in
            let p = layout.outputPath(id)
            return FileSystem.exists(p) ? p : nil
        }
        if contents.count > 0 || brokenPath != nil {
            var recovered: [Event.Detail] = [
                .init("records", .int(contents.count)), .init("killed_agents", .strings(killed)),
                .init("left_alone", .strings(strangersLeftAlone.map(String.init))),
                .init("stale_temps", .strings(temps)),
            ]
            if let brokenPath { recovered.append(.init("torn_tail_saved", .string(brokenPath))) }
            if !repaired.isEmpty { recovered.append(.init("repaired_main_files", .strings(repaired))) }
            try log.append(Event(event: EventName.watcherRecovered, details: recovered))
        }
        try repairAcceptedChecksums()
        try recoverTurns()
        try startWatching(initial + recoveryEffects)
    }

    /// The folders, the lock (a second daemon stops here), the pid file, signals, subreaping.
    func acquireRoot() throws {
        AtomicFile.tag = AtomicFile.randomTag() // this life's temps: logged in watcher.started
        root = try RootDirectory(layout.root)
        // The lock is the root folder's own: removing or replacing logs/ cannot let a second daemon in.
        guard try root.lockExclusively() else {
            // Who holds it, from /proc/locks (only for the message; an error there leaves it out).
            let holder = (try? FileLock.holder(layout.root)) ?? nil
            throw AlreadyRunning(lockPath: layout.root, pid: holder.map { "\($0)" })
        }
        for dir in [layout.mailbox, layout.logs] { try root.createDirectory(dir) }
        for dir in [layout.control + "/tmp", layout.control + "/new", layout.control + "/cur"] { try makeOwnFolder(dir) }
        try prepareMessages()
        try clearOwnFileName(layout.lockFile) // only now: the root's lock keeps every other daemon out
        do { lock = try FileLock.acquire(layout.lockFile) } catch FileLock.Error.held {
            let holder = try? FileSystem.readFile(layout.lockFile) // only for the message; absence is fine
            throw AlreadyRunning(lockPath: layout.lockFile,
                                 pid: holder.map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) })
        }
        try clearOwnFileName(layout.pidFile)
        try AtomicFile.replace(layout.pidFile, with: Array("\(getpid())\n".utf8))
        // Signals first, before any thread or child exists, so the mask is inherited by nothing.
        Signals.ignore(SIGPIPE)
        signals = try SignalFD(signals: [SIGCHLD, SIGTERM, SIGINT, SIGHUP])
        // Orphaned grandchildren of agents become our children, so they are reaped, never zombies.
        childrenBeforeStart = Set(try ProcessTree.current().children(of: getpid()))
        try ProcessControl.becomeChildSubreaper()
    }

    func loadRuns() throws {
        for path in options.pipelines {
            let spec = try SpecLoader.load(path)
            if runs[spec.run] != nil { throw SpecError(path: path, problems: ["run: \"\(spec.run)\" is already defined by another pipeline"]) }
            if Layout.reservedRunNames.contains(spec.run) {
                throw SpecError(path: path, problems: ["run: \"\(spec.run)\" is a reserved mailbox folder name"])
            }
            runs[spec.run] = try RunContext(spec: spec, specPath: path, rules: options.rules)
        }
        for ctx in runs.values {
            for dir in [layout.agentLogs(ctx.run), layout.validatorLogs(ctx.run)] { try makeOwnFolder(dir) }
            for dir in [layout.outbox(ctx.run) + "/tmp", layout.accepted(ctx.run), layout.rejected(ctx.run)] {
                do { try root.createDirectory(dir) } catch let e as SystemError {
                    // Logged once the log is open (folder.refused); the rest of the mailbox goes on.
                    if let link = root.symlinkedComponent(of: dir) { symlinkedAtStart.append((link, ctx.run)) } else { throw e }
                }
            }
            for dir in ctx.mainFolders { try FileSystem.createDirectory(dir) } // the spec's own paths
        }
    }

    /// Folds the log into the state (cutting a torn tail off first), opens it for appending and
    /// logs `watcher.started`. Returns `run.started` for runs the log has not seen yet.
    func replayLog() throws -> (EventLogReader.Summary, brokenPath: String?, initial: [Effect]) {
        state.schedulingHeld = true // until the first scan's files are looked at
        try checkEventLogIsPlain()
        // Folded as it is read: a long log is never held as an array of records. A run's plan
        // comes from its `run.started` (and `run.extended`) records, not from the spec.
        state.beginReplay() // the scheduling index is built once, after the last record
        let contents = try EventLogReader.fold(layout.eventLog) { r in
            let e = r.event
            // Most records are transitions, which only the state folds: straight there, not
            // compared with every name below.
            if e.event == EventName.transition {
                state.apply(e)
                replayObserver?(r)
                return
            }
            switch e.event {
            case EventName.controlApplied, EventName.controlRejected:
                if let source = e.string("source") { answeredControlFiles.insert(source) }
            case EventName.runStarted:
                if let run = e.run, let facts = PlanFacts(runStarted: e) {
                    loggedPlans[run] = facts
                    replayPlan(run)
                }
            case EventName.runExtended, EventName.specChanged:
                if let run = e.run { loggedPlans[run]?.fold(e) }
                if e.event == EventName.runExtended, let run = e.run { replayPlan(run) }
            case EventName.watcherStarted:
                previousLifeStoppedCleanly = false
                if let tag = e.string("temp_tag") { tempTags.insert(tag) }
            case EventName.mainWritten:
                if let path = e.string("path"), let record = MainFileRecord(e) { mainFiles[path] = record }
            case EventName.watcherStopped:
                previousLifeStoppedCleanly = true
            case let name where name.hasPrefix("message."):
                messages.apply(r)
            case EventName.turnTransition, EventName.threadStuck, EventName.threadCancelled,
                 EventName.responderPaused, EventName.responderResumed:
                turns.apply(e)
            default:
                break
            }
            state.apply(e)
            replayObserver?(r)
        }
        state.endReplay()
        // The spec is compared with what the log fixed before anything is written or run.
        var initial: [Effect] = []
        for ctx in runs.values.sorted(by: { $0.run < $1.run }) {
            initial += try adoptSpec(ctx, now: Daemon.now())
        }
        let brokenPath = contents.tornTail.isEmpty ? nil : try cutTornTail(contents)
        completedRuns = state.completed
        resumeMessages()
        log = try EventLogWriter(path: layout.eventLog, nextSeq: (contents.lastSeq ?? 0) + 1)
        log.observer = { [weak self] r in self?.observer?(r) }
        try log.append(Event(event: EventName.watcherStarted, details: [
            .init("pid", .int(Int(getpid()))), .init("schema", .int(EventRecord.schemaVersion)),
            .init("root", .string(layout.root)), .init("runs", .strings(runs.keys.sorted())),
            .init("replayed", .int(contents.count)), .init("temp_tag", .string(AtomicFile.tag ?? "")),
            .init("responders", .strings(turns.responders.keys.sorted())),
        ]))
        for (link, run) in symlinkedAtStart { try refuseFolder(link, run: run, about: link) }
        try logLinksMovedAside()
        return (contents, brokenPath, initial)
    }

    /// During replay: the run's plan as the log fixed it so far (the spec's phases and limits,
    /// the logged batch size and segments), so its transitions fold onto the batches they were.
    func replayPlan(_ run: String) {
        guard let ctx = runs[run], let facts = loggedPlans[run] else { return }
        var plan = ctx.plan
        plan.batchSize = facts.batchSize
        plan.segments = facts.segments
        plan.phases = facts.phases.map { shape in
            ctx.plan.phase(shape.id) ?? RunPlan.Phase(id: shape.id)
        }
        _ = state.add(plan)
    }

    /// The spec of `ctx` against the plan the log fixed for its run: a new run is started
    /// (`run.started`), an allowed change applied and logged (`spec.changed`, `run.extended`),
    /// a refused one throws naming each key with the logged and the new value. Used at start
    /// and on SIGHUP.
    func adoptSpec(_ ctx: RunContext, now: Instant) throws -> [Effect] {
        guard let logged = loggedPlans[ctx.run] else {
            let facts = ctx.facts
            loggedPlans[ctx.run] = facts
            return state.add(ctx.plan, facts: facts.details)
        }
        let check = PlanCheck.compare(logged: logged, batchSize: ctx.spec.batchSize, itemIDs: ctx.itemIDs,
                                      phases: ctx.spec.phaseShapes, settings: ctx.spec.settings)
        guard check.isAllowed else {
            throw SpecError(path: ctx.specPath, problems: check.refusalMessage(run: ctx.run))
        }
        ctx.adopt(logged, check: check)
        let facts = ctx.facts
        loggedPlans[ctx.run] = facts
        var effects: [Effect] = []
        if check.extendsPlan {
            effects += state.extend(ctx.plan, facts: facts.details, now: now)
        } else {
            _ = state.add(ctx.plan)
        }
        if !check.changes.isEmpty {
            effects.append(.log(Event(event: EventName.specChanged, run: ctx.run, details: [
                .init("changes", .strings(check.changes.map(\.description))),
                .init("settings", .strings(facts.settings.keys.sorted().map { "\($0)=\(facts.settings[$0] ?? "")" })),
            ])))
        }
        return effects
    }

    /// Agents of a previous life are adopted or stopped before anything else happens, and temp
    /// files of an atomic replace cut short are removed from every folder the daemon makes temps
    /// in (`Layout.tempFolders`) and the main files' folders.
    func settlePreviousLife() throws -> (adopted: [BatchID: pid_t], killed: [String], temps: [String]) {
        let adopted = adoptAgentsOfPreviousLife()
        let killed = stopAgentsOfPreviousLife(sparing: Set(adopted.values),
                                              sparingTokens: Set(adopted.values.compactMap { agentGroups[$0]?.token }))
        try cancelSlurmJobsOfPreviousLife(adopted: adopted)
        /// The folders in `path` (beneath the root, no link followed); none when it is not there.
        func folderNames(_ path: String) throws -> [String] {
            guard root.exists(path), root.symlinkedComponent(of: path) == nil else { return [] }
            return try root.listDirectory(path).filter { $0.kind == .directory && $0.isUTF8 }.map(\.name)
        }
        var folders = layout.tempFolders(runs: Array(runs.keys), mailboxFolders: try folderNames(layout.mailbox),
                                         agentNames: try folderNames(layout.agents),
                                         agentLogRuns: try folderNames(layout.logs + "/agents"))
        for ctx in runs.values { folders.formUnion(ctx.mainFolders) }
        var temps: [String] = []
        // Only temps whose tag a previous life logged are the daemon's own: nothing else is removed.
        for folder in folders.sorted() where FileSystem.exists(folder) && root.symlinkedComponent(of: folder) == nil {
            temps += try AtomicFile.removeStaleTemps(in: folder, tags: tempTags)
        }
        return (adopted, killed, temps)
    }

    /// Watches first, then the scan DirectoryWatcher does right after each watch; what the scan
    /// found is handled after the recovery's effects, but it was listed before any new agent
    /// started, so a new agent's half-written file is never taken for a finished one.
    func startWatching(_ effects: [Effect]) throws {
        logWatch = try Inotify()
        _ = try logWatch.addWatch(layout.logs, mask: [.deleteSelf, .moveSelf, .onlyDir, .dontFollow])
        _ = try logWatch.addWatch(layout.eventLog, mask: [.attrib, .deleteSelf, .moveSelf, .dontFollow])
        watcher = try DirectoryWatcher(ignoringPath: { [layout] path in layout.isUnwatched(path) })
        let found = try watcher.watchTree(layout.mailbox)
        try execute(effects)
        // An output the recovery is validating again is not also a newly found file: if it
        // fails, its batch is in retry_wait before the file is archived, and the scan's sighting
        // would have it judged a second time as a dropped file (a wasted attempt).
        let claimed = Set(effects.compactMap { effect -> String? in
            if case .validate(_, _, let path) = effect { return path }
            return nil
        })
        try handleFileEvents(found.filter { if case .found(let path) = $0 { return !claimed.contains(path) }; return true })
        try drainInputs()
        state.schedulingHeld = false
        inputs.append(.tick)
        try drainInputs()
    }

    /// Cuts a damaged tail off the log and keeps it beside the log.
    func cutTornTail(_ contents: EventLogReader.Summary) throws -> String {
        let (s, us) = Clock.realtime()
        let stamp = Clock.iso8601(seconds: s, microseconds: us).replacingOccurrences(of: ":", with: "")
        let saved = layout.eventLog + ".broken-" + stamp
        try AtomicFile.replace(saved, with: contents.tornTail)
        let fd = try FileDescriptor.open(layout.eventLog, O_WRONLY | O_NOFOLLOW | O_NONBLOCK)
        try fd.truncate(to: Int64(contents.goodLength))
        try fd.fsync()
        try fd.close()
        Console.error("agent-watcher: \(layout.eventLog): cut off a damaged tail of \(contents.tornTail.count) bytes (kept in \(saved))")
        return saved
    }

    func reloadSpecs() {
        for (run, ctx) in runs.sorted(by: { $0.key < $1.key }) {
            do {
                // The same checks as `run` at start: a reload that would fail at spawn is refused now.
                let report = SpecChecker.check([ctx.specPath], searchPath: ProcessInfo.processInfo.environment["PATH"],
                                               rules: options.rules)[0]
                guard report.isClean else {
                    throw SpecError(path: ctx.specPath, problems: report.problems.map {
                        $0.hasPrefix(ctx.specPath + ": ") ? String($0.dropFirst(ctx.specPath.count + 2)) : $0
                    })
                }
                let spec = try SpecLoader.load(ctx.specPath)
                guard spec.run == run else {
                    throw SpecError(path: ctx.specPath, problems: ["run: renaming a run needs a restart (was \"\(run)\")"])
                }
                let fresh = try RunContext(spec: spec, specPath: ctx.specPath, rules: options.rules)
                let effects = try adoptSpec(fresh, now: Daemon.now())
                runs[run] = fresh
                try loadResponders()
                try execute(effects)
                try log.append(Event(event: EventName.specReloaded, run: run))
                inputs.append(.tick) // the new limits (a raised budget, more concurrency) apply now
            } catch {
                Console.error("agent-watcher: SIGHUP: kept the old spec of \(run): \(error)")
                do { try log.append(Event(event: EventName.specRejected, run: run, reason: "\(error)")) } catch {
                    Console.error("agent-watcher: cannot log spec.rejected: \(error)")
                }
            }
        }
    }
}

extension Layout {
    /// Names a run cannot have: they are folders of the mailbox itself.
    public static let reservedRunNames: Set<String> = ["control", "agents", "tmp", "cur", "new", "accepted", "rejected", "outbox"]
}
