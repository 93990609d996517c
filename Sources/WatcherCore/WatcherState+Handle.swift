extension WatcherState {
    /// Turns one fact into effects, then lets dependants and the scheduler move.
    /// An input that does not fit the batch's state is ignored explicitly (returns no effects
    /// for it); it never traps.
    public mutating func handle(_ input: Input, now: Instant) -> [Effect] {
        var effects: [Effect] = []
        switch input {
        case .outputWritten(let id, let path, let renamed):
            outputWritten(id, path: path, renamed: renamed, now: now, into: &effects)
        case .spawned(let id, let attempt, let pid):
            guard let b = batches[id], b.state == .spawning, b.attempt == attempt else { break }
            transition(id, to: .running, details: [.init("pid", .int(Int(pid)))], into: &effects)
            batches[id]?.agentAlive = true
            let limit = timeout(of: id)
            batches[id]?.timeoutAt = now.adding(seconds: limit)
        case .spawnFailed(let id, let attempt, let message):
            guard let b = batches[id], b.state == .spawning, b.attempt == attempt else { break }
            let report = ValidationReport.from(errors: [ValidationError(
                type: "spawn_failed", item: nil, message: message,
                suggestion: "check the agent command (argv[0] must exist and be executable)")], stats: [:])
            failAttempt(id, reason: "spawn_failed", report: report, path: nil, now: now, into: &effects)
        case .agentExited(let id, let pid, let status, let success, let outputPath):
            agentExited(id, pid: pid, status: status, success: success, outputPath: outputPath, now: now, into: &effects)
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
            failAttempt(id, reason: "merge_conflict", report: report, path: b.validatingPath, now: now, into: &effects)
        case .outputChanged(let id, let attempt):
            guard let b = batches[id], b.state == .merging, b.attempt == attempt, let path = b.validatingPath else { break }
            transition(id, to: .validating, reason: "output_changed", into: &effects)
            effects.append(.validate(id, attempt: attempt, path: path))
        case .batchDone(let id, let outputPath):
            guard let b = batches[id], b.state == .running, let path = outputPath ?? b.settlePath else { break }
            startValidation(id, path: path, into: &effects)
        case .tick:
            tick(now: now, into: &effects)
        case .control(let command):
            control(command, now: now, into: &effects)
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
                              now: Instant, into effects: inout [Effect]) {
        guard let b = batches[id], b.pid == pid, b.agentAlive else { return }
        batches[id]?.agentAlive = false
        batches[id]?.killAt = nil
        batches[id]?.timeoutAt = nil
        effects.append(.log(Event(event: EventName.agentExited, run: id.run, phase: id.phase, batch: id.index,
                                  attempt: b.attempt, reason: b.stopReason,
                                  details: [.init("pid", .int(Int(pid))), .init("status", .string(status))])))
        let stopReason = b.stopReason
        batches[id]?.stopReason = nil
        guard b.state == .running else { return }
        if let stopReason {
            let report = ValidationReport.from(errors: [ValidationError(
                type: stopReason, item: nil,
                message: stopReason == "timeout"
                    ? "the agent did not finish within \(Int(timeout(of: id))) s and was stopped (\(status))"
                    : "the agent was stopped (\(stopReason), \(status))",
                suggestion: stopReason == "timeout" ? "write the output file sooner; work on fewer items at a time" : nil)],
                stats: [:])
            failAttempt(id, reason: stopReason, report: report, path: b.settlePath, now: now, into: &effects)
        } else if let path = outputPath ?? b.settlePath {
            startValidation(id, path: path, into: &effects)
        } else {
            let reason = success ? "no_output" : "agent_crashed"
            let report = ValidationReport.from(errors: [ValidationError(
                type: "no_output", item: nil,
                message: "the agent exited (\(status)) without writing \(id.outputFileName)",
                suggestion: "write the whole batch to the output path given in the prompt")], stats: [:])
            failAttempt(id, reason: reason, report: report, path: nil, now: now, into: &effects)
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
            transition(id, to: .running, reason: "output_incomplete", into: &effects)
            batches[id]?.validatingPath = nil
        } else {
            if b.agentAlive, let pid = b.pid {
                let grace = plans[id.run]?.killGraceSeconds ?? 5
                batches[id]?.stopReason = "superseded"
                batches[id]?.killAt = now.adding(seconds: grace)
                effects.append(.log(signalEvent(id, pid: pid, signal: .terminate, reason: "superseded")))
                effects.append(.signal(id, pid: pid, signal: .terminate))
            }
            failAttempt(id, reason: checksum == nil ? "output_unreadable" : "validation_failed",
                        report: report, path: path, checksum: checksum, now: now, into: &effects)
        }
    }

    /// The current attempt failed: retry after a backoff, or give up.
    mutating func failAttempt(_ id: BatchID, reason: String, report: ValidationReport, path: String?,
                              checksum: String? = nil, now: Instant, into effects: inout [Effect]) {
        guard let b = batches[id], let plan = plans[id.run] else { return }
        var details: [Event.Detail] = [.init("errors", .int(report.errors.count))]
        if !report.failedItems.isEmpty { details.append(.init("failed_items", .strings(Array(report.failedItems.prefix(50))))) }
        if let first = report.errors.first { details.append(.init("message", .string(String(first.message.prefix(300))))) }
        details.append(.init("fingerprint", .string(DrainPlanner.fingerprint(report))))
        if let checksum { details.append(.init("checksum", .string(checksum))) }
        if b.attempt >= b.attemptsAllowed {
            transition(id, to: .failed, reason: reason, details: details, into: &effects)
            blockDependants(of: id, into: &effects)
        } else {
            let delay = plan.backoff.delay(afterAttempt: b.attempt)
            details.append(.init("retry_in_ms", .int(Int(delay * 1000))))
            transition(id, to: .retryWait, reason: reason, details: details, into: &effects)
            batches[id]?.retryAt = now.adding(seconds: delay)
            // A dropped file can be checked before its dependency is merged; if that dependency
            // has failed meanwhile, a retry could never start: the batch is blocked instead.
            if let dep = hopelessDependency(of: id) {
                transition(id, to: .blocked, reason: "dependency_failed",
                           details: [.init("dependency", .string("\(dep.phase)/\(dep.index)"))], into: &effects)
                blockDependants(of: id, into: &effects)
            }
        }
        batches[id]?.lastReport = report
        batches[id]?.validatingPath = nil
        batches[id]?.settleAt = nil
        batches[id]?.settlePath = nil
        if let path, !path.isEmpty {
            effects.append(.archive(id, attempt: b.attempt, path: path, destination: .rejected(report)))
        }
    }

    mutating func blockDependants(of id: BatchID, reason: String = "dependency_failed", into effects: inout [Effect]) {
        var next = plans[id.run]?.dependant(of: id)
        while let d = next, let b = batches[d], b.state == .pending || b.state == .retryWait {
            transition(d, to: .blocked, reason: reason,
                       details: [.init("dependency", .string("\(id.phase)/\(id.index)"))], into: &effects)
            next = plans[id.run]?.dependant(of: d)
        }
    }

    /// The batches `id` had blocked wait for it again (it was skipped, or is being tried again).
    mutating func unblockDependants(of id: BatchID, reason: String, into effects: inout [Effect]) {
        var next = plans[id.run]?.dependant(of: id)
        while let d = next, batches[d]?.state == .blocked {
            transition(d, to: .pending, reason: reason, into: &effects)
            next = plans[id.run]?.dependant(of: d)
        }
    }

    mutating func tick(now: Instant, into effects: inout [Effect]) {
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
            if b.agentAlive, b.stopReason == nil, let at = b.timeoutAt, at <= now, let pid = b.pid {
                let grace = plans[id.run]?.killGraceSeconds ?? 5
                batches[id]?.stopReason = "timeout"
                batches[id]?.killAt = now.adding(seconds: grace)
                effects.append(.log(signalEvent(id, pid: pid, signal: .terminate, reason: "timeout")))
                effects.append(.signal(id, pid: pid, signal: .terminate))
            } else if b.agentAlive, let at = b.killAt, at <= now, let pid = b.pid {
                batches[id]?.killAt = nil
                effects.append(.log(signalEvent(id, pid: pid, signal: .kill, reason: b.stopReason ?? "stop")))
                effects.append(.signal(id, pid: pid, signal: .kill))
            }
        }
    }

    func signalEvent(_ id: BatchID, pid: Int32, signal: AgentSignal, reason: String) -> Event {
        Event(event: EventName.agentSignalled, run: id.run, phase: id.phase, batch: id.index,
              attempt: batches[id]?.attempt, reason: reason,
              details: [.init("pid", .int(Int(pid))), .init("signal", .string(signal.rawValue))])
    }
}
