/// The documented JSON shapes of `status --json` and `list --json` (schema 1; see the README's
/// "JSON output" section). Pure: the caller supplies the root and the time.
extension StatusReport {
    public static let jsonSchema = 1

    /// `status --json`.
    public func statusJSON(root: String, generatedAt: Double, costs: CostReport? = nil) -> JSONValue {
        .object([
            ("schema", .number(Double(Self.jsonSchema))),
            ("kind", .string("status")),
            ("root", .string(root)),
            ("generatedAt", .string(ISOTime.string(generatedAt))),
            ("daemon", .object([("running", .bool(daemonRunning))])),
            ("runs", .array(runs.map { Self.withCost($0.json(daemonRunning: daemonRunning), costs?.run($0.run)) })),
        ])
    }

    /// `list --json`: one summary per run.
    /// A run's object with its `cost` (tokens, USD, projection: see `CostReport`), or null.
    static func withCost(_ run: JSONValue, _ cost: CostReport.RunCost?) -> JSONValue {
        guard case .object(var members) = run else { return run }
        members.append(("cost", cost?.json ?? .null))
        return .object(members)
    }

    public func listJSON(root: String, costs: CostReport? = nil) -> JSONValue {
        .object([
            ("schema", .number(Double(Self.jsonSchema))),
            ("kind", .string("list")),
            ("root", .string(root)),
            ("daemon", .object([("running", .bool(daemonRunning))])),
            ("runs", .array(runs.map { r in
                .object([
                    ("run", .string(r.run)), ("state", .string(r.state(daemonRunning: daemonRunning))),
                    ("merged", .number(Double(r.phases.reduce(0) { $0 + $1.count(.merged) }))),
                    ("total", .number(Double(r.total))), ("failed", .number(Double(r.failedOrBlocked))),
                    ("retries", .number(Double(r.retries))),
                    ("pauseReason", r.pauseReason.map(JSONValue.string) ?? .null),
                    ("cost", costs?.run(r.run)?.json ?? .null),
                ])
            })),
        ])
    }
}

extension StatusReport.RunRow {
    /// `completed`, `paused`, `running` or `stopped` (incomplete with no daemon).
    public func state(daemonRunning: Bool) -> String {
        completed ? "completed" : paused ? "paused" : daemonRunning ? "running" : "stopped"
    }

    func json(daemonRunning: Bool) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("run", .string(run)),
            ("state", .string(state(daemonRunning: daemonRunning))),
            ("completed", .bool(completed)),
            ("paused", .bool(paused)),
            ("pauseReason", pauseReason.map(JSONValue.string) ?? .null),
            ("concurrency", .number(Double(concurrency))),
            ("batches", .number(Double(total))),
            ("done", .number(Double(done))),
            ("remainingBatches", .number(Double(remainingBatches))),
            ("retries", .number(Double(retries))),
            ("meanBatchSeconds", meanBatchSeconds.map(JSONValue.number) ?? .null),
            ("elapsedSeconds", elapsedSeconds.map(JSONValue.number) ?? .null),
            ("remainingSeconds", etaSeconds.map(JSONValue.number) ?? .null),
            ("estimatedCompletion", estimatedCompletion.map { .string(ISOTime.string($0)) } ?? .null),
        ]
        members.append(("phases", .array(phases.map { $0.json })))
        return .object(members)
    }
}

extension StatusReport.PhaseRow {
    var json: JSONValue {
        func n(_ v: Int) -> JSONValue { .number(Double(v)) }
        return .object([
            ("phase", .string(phase)),
            ("total", n(total)),
            ("completed", n(count(.merged))),
            ("skipped", n(count(.skipped))),
            ("failed", n(count(.failed))),
            ("blocked", n(count(.blocked))),
            ("cancelled", n(count(.cancelled))),
            ("running", n(running)),
            ("interrupted", n(interrupted)),
            ("retrying", n(count(.retryWait))),
            ("pending", n(count(.pending))),
            ("currentBatch", currentBatch.map(n) ?? .null),
            ("meanBatchSeconds", meanBatchSeconds.map(JSONValue.number) ?? .null),
            ("elapsedSeconds", elapsedSeconds.map(JSONValue.number) ?? .null),
            ("remainingSeconds", remainingSeconds.map(JSONValue.number) ?? .null),
            ("failedBatches", .array(failedBatches.map { f in
                .object([
                    ("batch", n(f.batch)), ("state", .string(f.state.rawValue)),
                    ("attempts", n(f.attempts.count)),
                    ("errors", .array(f.attempts.map { a in
                        .object([
                            ("attempt", n(a.attempt)), ("reason", a.reason.map(JSONValue.string) ?? .null),
                            ("class", a.failureClass.map(JSONValue.string) ?? .null),
                            ("errorCount", a.errors.map(n) ?? .null), ("message", a.message.map(JSONValue.string) ?? .null),
                        ])
                    })),
                ])
            })),
        ])
    }
}
