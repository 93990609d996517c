/// The cost report as the project's own JSON values, for `--json` outputs.
extension CostReport {
    public var json: JSONValue {
        .object([("runs", .array(runs.map(\.json)))])
    }
}

extension CostReport.RunCost {
    public var json: JSONValue {
        var m: [(key: String, value: JSONValue)] = [("run", .string(run))]
        m += totals.jsonMembers
        m.append(("merged_batches", .number(Double(mergedBatches))))
        m.append(("batches_left", .number(Double(batchesLeft))))
        if let p = projection {
            m.append(("projection", .object([
                ("total_usd", .number(p.totalUSD)), ("per_batch_usd", .number(p.perBatchUSD)),
                ("merged_batches", .number(Double(p.mergedBatches))), ("batches_left", .number(Double(p.batchesLeft))),
                ("spent_usd", .number(p.spentUSD)), ("basis", .string(p.basis)),
            ])))
        } else {
            m.append(("projection", .null))
        }
        m.append(("phases", .array(phases.map { .object([("phase", .string($0.phase))] + $0.totals.jsonMembers) })))
        m.append(("batches", .array(batches.map { b in
            .object([("phase", .string(b.id.phase)), ("batch", .number(Double(b.id.index)))] + b.totals.jsonMembers
                + [("attempts_usage", .array(b.attempts.map(\.json)))])
        })))
        return .object(m)
    }
}

extension CostReport.Totals {
    var jsonMembers: [(key: String, value: JSONValue)] {
        func opt(_ v: Double?) -> JSONValue { v.map { .number($0) } ?? .null }
        return [
            ("attempts", .number(Double(attempts))), ("tokens", .number(Double(tokens))),
            ("input_tokens", .number(Double(inputTokens))), ("output_tokens", .number(Double(outputTokens))),
            ("cache_read_tokens", .number(Double(cacheReadTokens))), ("cache_write_tokens", .number(Double(cacheWriteTokens))),
            ("cost_usd", .number(costUSD)), ("estimated", .bool(estimated)),
            ("unpriced_attempts", .number(Double(unpricedAttempts))),
            ("retry_cost_usd", .number(retryCostUSD)), ("retry_share", opt(retryShare)),
            ("cache_read_share", opt(cacheReadShare)), ("merged_items", .number(Double(mergedItems))),
            ("cost_per_merged_item_usd", opt(costPerMergedItem)),
        ]
    }
}

extension CostReport.AttemptUsage {
    public var json: JSONValue {
        func opt(_ v: Int?) -> JSONValue { v.map { .number(Double($0)) } ?? .null }
        let u = usage
        return .object([
            ("attempt", .number(Double(attempt))), ("ts", .string(ts)), ("models", .array(u.models.map { .string($0.model) })),
            ("input_tokens", .number(Double(u.inputTokens))), ("output_tokens", .number(Double(u.outputTokens))),
            ("cache_read_tokens", .number(Double(u.cacheReadTokens))), ("cache_write_tokens", .number(Double(u.cacheWriteTokens))),
            ("cost_usd", u.costUSD.map { .number($0) } ?? .null), ("estimated", .bool(u.estimated)),
            ("api_ms", opt(u.apiMilliseconds)), ("turns", opt(u.turns)),
            ("session_id", u.sessionID.map { .string($0) } ?? .null), ("verdict", .string(verdict)),
            ("message", message.map { .string($0) } ?? .null),
        ])
    }
}
