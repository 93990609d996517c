extension WatcherState {
    /// Turns one fact into effects, then lets dependants and the scheduler move.
    /// An input that does not fit the batch's state is ignored explicitly (returns no effects
    /// for it); it never traps.
    public mutating func handle(_ input: Input, now: Instant) -> [Effect] {
        var effects: [Effect] = []
        switch input {
        case .outputWritten(let id, let path, let renamed):
            outputWritten(id, path: path, renamed: renamed, now: now, into: &effects)
        case .spawned(let id, let attempt, let pid, let startTime, let jobID):
            guard let b = batches[id], b.state == .spawning, b.attempt == attempt else { break }
            transition(id, to: .running, details: [.init("pid", .int(Int(pid)))]
                + (startTime.map { [.init("start_time", .int(Int(clamping: $0)))] } ?? [])
                + (jobID.map { [.init("job_id", .string($0))] } ?? []), into: &effects)
            batches[id]?.agentAlive = true
            let life = ChildLifetime(deadline: now.adding(seconds: timeout(of: id)), grace: grace(of: id))
            batches[id]?.life = life
        case .spawnFailed(let id, let attempt, let message, let missing):
            guard let b = batches[id], b.state == .spawning, b.attempt == attempt else { break }
            let report = ValidationReport.from(errors: [ValidationError(
                type: "spawn_failed", item: nil, message: message,
                suggestion: "check the agent command (argv[0] must exist and be executable)")], stats: [:])
            failAttempt(id, class: .spawnFailed, reason: .spawnFailed, report: report, path: nil, now: now, into: &effects)
            if missing { pauseRun(id.run, .setupError, message: "the agent could not be started: \(message)", into: &effects) }
        case .agentExited(let id, let pid, let status, let success, let outputPath, let exitCode, let logTail, let agent):
            agentExited(id, pid: pid, status: status, success: success, outputPath: outputPath,
                        exitCode: exitCode, logTail: logTail, agent: agent, now: now, into: &effects)
        case .validatorFailed(let id, let attempt, let message):
            guard let b = batches[id], b.state == .validating, b.attempt == attempt else { break }
            let path = b.validatingPath
            let report = ValidationReport.from(errors: [ValidationError(
                type: "validator_failed", item: nil, message: message,
                suggestion: "fix the validator; `resume` checks the same output again")], stats: [:])
            failAttempt(id, class: .validatorFailed, reason: .validatorFailed, report: report, path: nil,
                        extra: path.map { [.init("path", .string($0))] } ?? [], now: now, into: &effects)
            batches[id]?.lastReport = nil
            pauseRun(id.run, .validatorFailed, message: message, into: &effects)
        case .validated(let id, let attempt, let report, let checksum, let unparseable):
            validated(id, attempt: attempt, report: report, checksum: checksum, unparseable: unparseable,
                      now: now, into: &effects)
        case .merged(let id, let attempt, let checksum, let items, let already):
            guard let b = batches[id], b.state == .merging, b.attempt == attempt else { break }
            let path = b.validatingPath
            transition(id, to: .merged, details: [
                .init("checksum", .string(checksum)), .init("items", .int(items)),
                .init("already_merged", .bool(already)),
            ], into: &effects)
            batches[id]?.lastReport = nil
            if let path { effects.append(.archive(id, attempt: attempt, path: path, destination: .accepted(checksum: checksum))) }
        case .mergeConflict(let id, let attempt, let report):
            guard let b = batches[id], b.state == .merging, b.attempt == attempt else { break }
            failAttempt(id, class: .invalidOutput, reason: .mergeConflict, report: report, path: b.validatingPath,
                        now: now, into: &effects)
        case .mainFileChanged(let id, let attempt, let message):
            guard let b = batches[id], b.state == .merging, b.attempt == attempt else { break }
            let report = ValidationReport.from(errors: [ValidationError(
                type: "main_file_changed", item: nil, message: message,
                suggestion: "restore the main file, then `resume`; or `retry \(id.run) \(id.phase) --rebuild`")], stats: [:])
            failAttempt(id, class: .mainFileChanged, reason: .mainFileChanged, report: report, path: nil,
                        extra: b.validatingPath.map { [.init("path", .string($0))] } ?? [], now: now, into: &effects)
            pauseRun(id.run, .mainFileChanged, message: message, into: &effects)
        case .outputChanged(let id, let attempt):
            guard let b = batches[id], b.state == .merging, b.attempt == attempt, let path = b.validatingPath else { break }
            transition(id, to: .validating, reason: TransitionReason.outputChanged.rawValue, into: &effects)
            effects.append(.validate(id, attempt: attempt, path: path))
        case .batchDone(let id, let outputPath):
            guard let b = batches[id], b.state == .running, let path = outputPath ?? b.settlePath else { break }
            startValidation(id, path: path, into: &effects)
        case .tick:
            tick(now: now, into: &effects)
        case .control(let command):
            control(command, now: now, into: &effects)
        case .mainFileRebuilt(let command, let n, let refusal):
            mainFileRebuilt(command, batches: n, refusal: refusal, into: &effects)
        }
        if let id = input.batchID { refresh(id) }
        afterInput(now: now, into: &effects)
        return effects
    }

    func timeout(of id: BatchID) -> Double {
        plans[id.run]?.phase(id.phase)?.timeoutSeconds ?? 600
    }

    mutating func outputWritten(_ id: BatchID, path: String, renamed: Bool, now: Instant, into effects: inout [Effect]) {
        guard let b = batches[id] else {
            effects.append(.rejectFile(run: id.run, path: path, reason: "no such batch in run \(id.run): \(id.outputFileName)"))
            return
        }
        switch b.state {
        case .running, .spawning:
            if renamed || !b.agentAlive && b.state == .running {
                startValidation(id, path: path, into: &effects)
            } else {
                let settle = plans[id.run]?.settleMilliseconds ?? 200
                batches[id]?.settleAt = now.adding(milliseconds: settle)
                batches[id]?.settlePath = path
            }
        case .retryWait where b.heldPath == path:
            break // kept for the validator the operator is fixing; checked again on `resume`
        case .pending, .retryWait, .failed:
            // A file dropped by hand, or a late output: it is checked as an attempt of its own.
            let attempt = b.attempt + 1
            if attempt > b.attemptsAllowed { batches[id]?.attemptsAllowed = attempt }
            transition(id, to: .validating, reason: "output_dropped",
                       details: [.init("attempts_allowed", .int(max(attempt, b.attemptsAllowed)))],
                       attempt: attempt, into: &effects)
            batches[id]?.validatingPath = path
            effects.append(.validate(id, attempt: attempt, path: path))
            if b.state == .failed { unblockDependants(of: id, reason: "dependency_requeued", into: &effects) }
        case .validating, .merging:
            break // the merge re-checks the checksum; a rewrite is seen there
        case .merged:
            effects.append(.settleDuplicate(id, path: path, mergedChecksum: b.mergedChecksum))
        case .blocked, .skipped, .cancelled:
            effects.append(.rejectFile(run: id.run, path: path, reason: "batch \(id) is \(b.state.rawValue)"))
        }
    }

    mutating func startValidation(_ id: BatchID, path: String, into effects: inout [Effect]) {
        guard let b = batches[id] else { return }
        transition(id, to: .validating, into: &effects)
        batches[id]?.settleAt = nil
        batches[id]?.settlePath = nil
        batches[id]?.validatingPath = path
        effects.append(.validate(id, attempt: b.attempt, path: path))
    }

    mutating func agentExited(_ id: BatchID, pid: Int32, status: String, success: Bool, outputPath: String?,
                              exitCode: Int?, logTail: String, agent: AgentOutcome? = nil, now: Instant,
                              into effects: inout [Effect]) {
        guard let b = batches[id], b.pid == pid, b.agentAlive else { return }
        batches[id]?.agentAlive = false
        effects.append(.log(Event(event: EventName.agentExited, run: id.run, phase: id.phase, batch: id.index,
                                  attempt: b.attempt, reason: b.stopReason,
                                  details: [.init("pid", .int(Int(pid))), .init("status", .string(status))])))
        if let agent { noteUsage(agent, of: id, attempt: b.attempt, into: &effects) }
        let stopReason = b.stopReason
        batches[id]?.life = nil
        guard b.state == .running else { return }
        if let stopReason {
            let isTimeout = stopReason == TransitionReason.timeout.rawValue
            let report = ValidationReport.from(errors: [ValidationError(
                type: stopReason, item: nil,
                message: isTimeout
                    ? "the agent did not finish within \(Int(timeout(of: id))) s and was stopped (\(status))"
                    : "the agent was stopped (\(stopReason), \(status))",
                suggestion: isTimeout ? "write the output file sooner; work on fewer items at a time" : nil)],
                stats: [:])
            failAttempt(id, class: isTimeout ? .timeout : .stopped, reason: TransitionReason(rawValue: stopReason),
                        report: report, path: b.settlePath, now: now, into: &effects)
        } else if let path = outputPath ?? b.settlePath {
            startValidation(id, path: path, into: &effects)
        } else if let verdict = agent?.verdict, verdict.failed {
            agentSaidItFailed(id, verdict, status: status, now: now, into: &effects)
        } else if let pattern = plans[id.run]?.phase(id.phase)?.transient.match(exitCode: success ? nil : exitCode, logTail: logTail) {
            let report = ValidationReport.from(errors: [ValidationError(
                type: "transient", item: nil,
                message: "the agent's service failed (\(status); matched \(pattern)); the run waits and tries again",
                suggestion: nil)], stats: [:])
            failAttempt(id, class: .transient, reason: .transient, report: report, path: nil,
                        extra: [.init("matched", .string(pattern))], now: now, into: &effects)
            batches[id]?.lastReport = nil
            backOff(id.run, pattern: pattern, now: now, into: &effects)
        } else {
            let report = ValidationReport.from(errors: [ValidationError(
                type: "no_output", item: nil,
                message: "the agent exited (\(status)) without writing \(id.outputFileName)",
                suggestion: "write the whole batch to the output path given in the prompt")], stats: [:])
            failAttempt(id, class: success ? .noOutput : .agentCrashed, reason: success ? .noOutput : .agentCrashed,
                        report: report, path: nil, now: now, into: &effects)
        }
    }

    mutating func validated(_ id: BatchID, attempt: Int, report: ValidationReport, checksum: String?,
                            unparseable: Bool, now: Instant, into effects: inout [Effect]) {
        guard let b = batches[id], b.state == .validating, b.attempt == attempt else { return }
        let path = b.validatingPath ?? ""
        if report.valid, let checksum {
            transition(id, to: .merging, details: [.init("checksum", .string(checksum))], into: &effects)
            effects.append(.merge(id, attempt: attempt, path: path, checksum: checksum))
        } else if unparseable && b.agentAlive {
            // Not a failure yet: the agent may still be writing. Wait for the next write or its exit.
            transition(id, to: .running, reason: TransitionReason.outputIncomplete.rawValue, into: &effects)
            batches[id]?.validatingPath = nil
        } else {
            if b.agentAlive { stopAgent(id, reason: "superseded", now: now, into: &effects) }
            failAttempt(id, class: .invalidOutput, reason: checksum == nil ? .outputUnreadable : .validationFailed,
                        report: report, path: path, checksum: checksum, now: now, into: &effects)
        }
    }

    /// The current attempt failed: retry after a backoff, or give up. A failure whose class
    /// uses no attempt (`FailureClass.usesAttempt`) hands the attempt back (`attempt_used`
    /// false) and never ends the batch; only the agent's own failures put errors in the next prompt.
    mutating func failAttempt(_ id: BatchID, class failure: FailureClass, reason: TransitionReason, report: ValidationReport,
                              path: String?, checksum: String? = nil, extra: [Event.Detail] = [],
                              now: Instant, into effects: inout [Effect]) {
        guard let b = batches[id], let plan = plans[id.run] else { return }
        var details: [Event.Detail] = [.init("class", .string(failure.rawValue)), .init("errors", .int(report.errors.count))]
        if !failure.usesAttempt { details.append(.init("attempt_used", .bool(false))) }
        if !report.failedItems.isEmpty { details.append(.init("failed_items", .strings(Array(report.failedItems.prefix(50))))) }
        if let first = report.errors.first { details.append(.init("message", .string(String(first.message.prefix(300))))) }
        if failure.usesAttempt { details.append(.init("fingerprint", .string(DrainPlanner.fingerprint(report)))) }
        if let checksum { details.append(.init("checksum", .string(checksum))) }
        details += extra
        if failure.usesAttempt && b.attempt >= b.attemptsAllowed {
            transition(id, to: .failed, reason: reason.rawValue, details: details, into: &effects)
            blockDependants(of: id, into: &effects)
        } else {
            // A transient failure waits for the run's backoff, a validator failure for `resume`:
            // neither has a delay of its own.
            let delay = failure == .transient || failure == .validatorFailed || failure == .mainFileChanged ? 0 : plan.backoff.delay(afterAttempt: max(1, b.attempt))
            if delay > 0 { details.append(.init("retry_in_ms", .int(Int(delay * 1000)))) }
            transition(id, to: .retryWait, reason: reason.rawValue, details: details, into: &effects)
            batches[id]?.retryAt = delay > 0 ? now.adding(seconds: delay) : nil
            // A dropped file can be checked before its dependency is merged; if that dependency
            // has failed meanwhile, a retry could never start: the batch is blocked instead.
            if let dep = hopelessDependency(of: id) {
                transition(id, to: .blocked, reason: TransitionReason.dependencyFailed.rawValue,
                           details: [.init("dependency", .string("\(dep.phase)/\(dep.index)"))], into: &effects)
                blockDependants(of: id, into: &effects)
            }
        }
        if failure.usesAttempt { batches[id]?.lastReport = report }
        batches[id]?.validatingPath = nil
        batches[id]?.settleAt = nil
        batches[id]?.settlePath = nil
        if let path, !path.isEmpty {
            effects.append(.archive(id, attempt: b.attempt, path: path, destination: .rejected(report)))
        }
        if failure.tripsBreaker, plan.breakerThreshold > 0, (consecutiveCrashes[id.run] ?? 0) >= plan.breakerThreshold {
            let n = consecutiveCrashes[id.run] ?? 0
            pauseRun(id.run, .circuitOpen,
                     message: "\(n) agents in a row failed to run (last: \(report.errors.first?.message ?? reason.rawValue)); fix the agent command, then `resume`",
                     into: &effects)
        }
    }

    /// The watcher pauses a run by itself (circuit open, a validator or the agent's program
    /// missing): once, with the reason and what to fix. `resume` lets it go on.
    mutating func pauseRun(_ run: String, _ reason: PauseReason, message: String, into effects: inout [Effect]) {
        guard !paused.contains(run) else { return }
        let e = Event(event: EventName.runPaused, run: run, reason: reason.rawValue,
                      details: [.init("message", .string(String(message.prefix(500))))])
        apply(e)
        effects.append(.log(e))
    }

    /// A transient failure: no agent of the run starts for a while, doubling per consecutive one.
    mutating func backOff(_ run: String, pattern: String, now: Instant, into effects: inout [Effect]) {
        guard let plan = plans[run] else { return }
        let n = (consecutiveTransient[run] ?? 0) + 1
        let delay = plan.transientBackoff.delay(afterAttempt: n)
        let e = Event(event: EventName.runBackoff, run: run, reason: TransitionReason.transient.rawValue, details: [
            .init("delay_ms", .int(Int(delay * 1000))), .init("consecutive", .int(n)), .init("matched", .string(pattern)),
        ])
        apply(e)
        effects.append(.log(e))
        backoffUntil[run] = now.adding(seconds: delay)
    }

    mutating func blockDependants(of id: BatchID, reason: TransitionReason = .dependencyFailed, into effects: inout [Effect]) {
        var next = plans[id.run]?.dependant(of: id)
        while let d = next, let b = batches[d], b.state == .pending || b.state == .retryWait {
            transition(d, to: .blocked, reason: reason.rawValue,
                       details: [.init("dependency", .string("\(id.phase)/\(id.index)"))], into: &effects)
            next = plans[id.run]?.dependant(of: d)
        }
    }

    /// The dependants of a skipped batch are skipped too, transitively: they would only run
    /// with no input. `retry` of the skipped batch brings them back.
    mutating func skipDependants(of id: BatchID, into effects: inout [Effect]) {
        var next = plans[id.run]?.dependant(of: id)
        while let d = next, let b = batches[d], [.pending, .retryWait, .blocked].contains(b.state), !b.agentAlive {
            transition(d, to: .skipped, reason: TransitionReason.dependencySkipped.rawValue,
                       details: [.init("dependency", .string("\(id.phase)/\(id.index)"))], into: &effects)
            next = plans[id.run]?.dependant(of: d)
        }
    }

    /// The batches `id` had blocked (or skipped or cancelled with it) wait for it again.
    mutating func unblockDependants(of id: BatchID, reason: TransitionReason, into effects: inout [Effect]) {
        var next = plans[id.run]?.dependant(of: id)
        while let d = next, let b = batches[d],
              b.state == .blocked || (b.state == .skipped && b.lastReason == TransitionReason.dependencySkipped.rawValue)
                || (b.state == .cancelled && b.lastReason == TransitionReason.dependencyCancelled.rawValue) {
            transition(d, to: .pending, reason: reason.rawValue, into: &effects)
            next = plans[id.run]?.dependant(of: d)
        }
    }

    mutating func tick(now: Instant, into effects: inout [Effect]) {
        // A run backoff that has passed is gone, paused run or not (its deadline must not stay due).
        backoffUntil = backoffUntil.filter { $0.value > now }
        for id in popDueDeadlines(now: now) {
            defer { refresh(id) }
            guard let b = batches[id] else { continue }
            if b.state == .retryWait, let at = b.retryAt, at <= now {
                batches[id]?.retryAt = nil // due: from now on only a free slot is awaited, not a time
                continue
            }
            if b.state == .running, let at = b.settleAt, at <= now, let path = b.settlePath {
                startValidation(id, path: path, into: &effects)
                continue
            }
            if b.agentAlive, var life = b.life {
                let actions = life.tick(now: now) // the deadline stops it (`timeout`), the grace's end kills it
                batches[id]?.life = life
                signalAgent(id, actions, into: &effects)
            }
        }
    }

    func grace(of id: BatchID) -> Double { plans[id.run]?.killGraceSeconds ?? ChildLifetime.defaultGraceSeconds }

    /// The watcher stops a batch's running agent (its lifetime says how: SIGTERM, grace, SIGKILL).
    mutating func stopAgent(_ id: BatchID, reason: String, now: Instant, into effects: inout [Effect]) {
        guard var life = batches[id]?.life else { return }
        let actions = life.stop(reason: reason, now: now)
        batches[id]?.life = life
        signalAgent(id, actions, into: &effects)
    }

    /// A lifetime's actions for a batch's agent: an `agent.signalled` record and the signal, each.
    func signalAgent(_ id: BatchID, _ actions: [ChildLifetime.Action], into effects: inout [Effect]) {
        guard let b = batches[id], let pid = b.pid else { return }
        for signal in ChildLifetime.signals(actions) {
            effects.append(.log(signalEvent(id, pid: pid, signal: signal, reason: b.stopReason ?? "stop")))
            effects.append(.signal(id, pid: pid, signal: signal))
        }
    }

    func signalEvent(_ id: BatchID, pid: Int32, signal: AgentSignal, reason: String) -> Event {
        Event(event: EventName.agentSignalled, run: id.run, phase: id.phase, batch: id.index,
              attempt: batches[id]?.attempt, reason: reason,
              details: [.init("pid", .int(Int(pid))), .init("signal", .string(signal.rawValue))])
    }
}
