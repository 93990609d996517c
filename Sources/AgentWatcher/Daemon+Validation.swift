import Foundation
import Glibc
import WatcherCore
import WatcherSystem

extension Daemon {
    func startValidation(_ id: BatchID, attempt: Int, path: String) throws {
        guard let ctx = runs[id.run], let phase = ctx.phase(id.phase) else { return }
        func fail(_ type: String, _ message: String, checksum: String? = nil) {
            let report = ValidationReport.from(errors: [ValidationError(type: type, item: nil, message: message, suggestion: nil)])
            inputs.append(.validated(id, attempt: attempt, report: report, checksum: checksum, unparseable: false))
        }
        switch SafeFile.readDropped(path, beneath: root, limit: ctx.spec.maxFileBytes) {
        case .vanished:
            fail(ValidationErrorType.noOutput, "\(path) vanished before it could be read")
        case .refused(.symlinkedFolder(let link)):
            try refuseFolder(link, run: id.run, about: path)
            fail("file_refused", "\(path) was not read: it \(SafeFile.Refusal.symlinkedFolder(link))")
        case .refused(let refusal):
            try log.append(Event(event: EventName.fileRejected, run: id.run, phase: id.phase, batch: id.index,
                                 attempt: attempt, reason: "\(refusal)", details: [.init("path", .string(path))]))
            fail("file_refused", "\(path) was not read: \(refusal)")
        case .failed(let error):
            fail("output_unreadable", "\(path): \(error)")
        case .contents(let bytes, let status):
            let checksum = SHA256.hex(bytes)
            let report: ValidationReport, unparseable: Bool, items: [BatchItem]
            do { (report, unparseable, items) = try BatchValidator(context: ctx).check(id, phase: phase, bytes: bytes) } catch let e as FileSystem.NotARegularFile {
                // A main file the checks read is a FIFO or such: the operator's to fix, not the agent's.
                return inputs.append(.validatorFailed(id, attempt: attempt, message: "\(e); move it away, then `resume`"))
            }
            FaultInjection.point("validate")
            // What the merge needs, kept in memory with the file's identity: the merge then only
            // checks that the file is unchanged (an external validator checks the same bytes).
            validatedBatches[id] = report.valid
                ? Merger.Validated(attempt: attempt, checksum: checksum, status: status, items: items) : nil
            if !report.valid || (phase.validators ?? []).isEmpty {
                inputs.append(.validated(id, attempt: attempt, report: report, checksum: checksum, unparseable: unparseable))
            } else {
                startExternalValidator(ValidationJob(id: id, attempt: attempt, path: path, checksum: checksum, index: 0,
                                                     stdoutPath: "", life: ChildLifetime()))
            }
        }
    }

    func startExternalValidator(_ job: ValidationJob) {
        guard let ctx = runs[job.id.run], let phase = ctx.phase(job.id.phase),
              let validators = phase.validators, job.index < validators.count else { return }
        let v = validators[job.index]
        var job = job
        job.stdoutPath = layout.validatorLogs(job.id.run) + "/\(job.id.phase)-\(job.id.index)-\(job.attempt)-\(job.index + 1).out"
        job.life = ChildLifetime(deadline: Daemon.now().adding(seconds: v.timeoutSeconds ?? 60),
                                 grace: ctx.spec.killGraceSeconds)
        let values = ["batch_file": job.path, "main_file": ctx.mainPath(phase), "phase": job.id.phase,
                      "batch": String(job.id.index), "run": job.id.run, "attempt": String(job.attempt)]
        do {
            // The outputs of an earlier run of this validator are the daemon's own (under logs/):
            // their names are removed (never followed) and made anew beneath the root. Anything
            // else planted there (a folder, a FIFO, a link) is moved aside with a record.
            try makeOwnFolder(layout.validatorLogs(job.id.run))
            try logLinksMovedAside()
            let errPath = String(job.stdoutPath.dropLast(4)) + ".err"
            var outputs: [FileDescriptor] = []
            for path in [job.stdoutPath, errPath] {
                if let s = try root.lstatIfPresent(path) { // absent: nothing to clear
                    if s.kind == .regular && s.linkCount == 1 { try root.unlink(path) } else {
                        try movePlantedAside(path, run: job.id.run, what: "a validator's output")
                    }
                }
                outputs.append(try root.open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND))
            }
            var request = SpawnRequest(
                argv: v.argv.map { Placeholders.fill($0, values) },
                // Known as the daemon's own by a restart (see AgentToken), like an agent.
                environment: root.childEnvironment(ProcessInfo.processInfo.environment, rootPath: layout.root,
                                                   token: AgentToken(lifeTag: AtomicFile.tag ?? "", id: job.id, attempt: job.attempt).validatorText),
                workingDirectory: ctx.baseDir, stdinPath: nil, outputPath: job.stdoutPath, errorPath: errPath)
            request.outputDescriptor = outputs[0].rawValue
            request.errorDescriptor = outputs[1].rawValue
            let pid = try Spawner.spawn(request)
            for fd in outputs { try fd.close() }
            children[pid] = .validator(job)
        } catch {
            inputs.append(.validatorFailed(job.id, attempt: job.attempt,
                                           message: "validator \(v.argv.first ?? "?") of phase \(job.id.phase) could not start: \(error)"))
        }
    }

    func validatorFinished(_ job: ValidationJob, status: ExitStatus) throws {
        let out = root.exists(job.stdoutPath) ? try root.open(job.stdoutPath, O_RDONLY | O_NONBLOCK).readAll() : []
        let name = (runs[job.id.run]?.phase(job.id.phase)?.validators?[job.index].argv ?? ["?"]).prefix(3).joined(separator: " ")
        let report: ValidationReport
        switch status {
        case .exited(let code) where code != 0 && (code >= 126 || out.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }):
            // 126/127: it could not run; any failure with nothing on stdout: it crashed rather
            // than judged (a verdict is written to stdout). Not the agent's fault.
            let err = String(job.stdoutPath.dropLast(4)) + ".err"
            inputs.append(.validatorFailed(job.id, attempt: job.attempt,
                                           message: "validator \(name) of phase \(job.id.phase) failed (\(status)) without a verdict on stdout; see \(err)"))
            return
        case .exited(let code):
            report = ExternalValidatorReport.parse(exitStatus: code, stdout: out)
        case .signaled:
            inputs.append(.validatorFailed(job.id, attempt: job.attempt, message: job.timedOut
                ? "validator \(name) of phase \(job.id.phase) timed out and was stopped"
                : "validator \(name) of phase \(job.id.phase) \(status)"))
            return
        }
        FaultInjection.point("validate")
        let count = runs[job.id.run]?.phase(job.id.phase)?.validators?.count ?? 0
        if report.valid && job.index + 1 < count {
            var next = job
            next.index += 1
            startExternalValidator(next)
        } else {
            inputs.append(.validated(job.id, attempt: job.attempt, report: report, checksum: job.checksum, unparseable: false))
        }
    }

    func checkValidatorDeadlines() throws {
        let now = Daemon.now()
        for (pid, child) in children {
            guard case .validator(var job) = child else { continue }
            let actions = job.life.tick(now: now) // its timeout: SIGTERM to the group, grace, SIGKILL
            children[pid] = .validator(job)
            for action in actions {
                guard action != .abandon else { continue } // still a child: reaped whenever it goes
                do { _ = try ProcessControl.signalGroup(pid, action == .kill ? SIGKILL : SIGTERM) } catch {
                    Console.error("agent-watcher: cannot signal validator \(pid): \(error)")
                }
            }
        }
    }
}
