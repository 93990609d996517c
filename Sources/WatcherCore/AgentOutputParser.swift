/// Reads an agent CLI's headless output (its standard output, whole) into usage and verdict.
/// Pure: bytes and the exit code in, a value out. Output that does not have the documented
/// shape is an ``AgentOutputError``, never a guess.
public enum AgentOutputParser {
    /// `exitCode`: the agent's, nil when a signal ended it (gemini's exit codes carry its verdict).
    public static func parse(_ kind: AgentOutputKind, stdout: [UInt8], exitCode: Int?) -> Result<AgentReport, AgentOutputError> {
        switch kind {
        case .text: return .failure(AgentOutputError("a text agent's output holds no usage"))
        case .claudeJSON: return claude(stdout)
        case .geminiJSON: return gemini(stdout, exitCode: exitCode)
        case .codexJSONL: return codex(stdout)
        }
    }

    /// The JSON values of a document that is one value, or one value per line. A line that
    /// does not parse is reported with its number.
    static func documents(_ bytes: [UInt8]) -> Result<[JSONValue], AgentOutputError> {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return .failure(AgentOutputError("the agent printed nothing on its standard output"))
        }
        // One value, or else one per line: a whole that does not parse is read line by line.
        do { return .success([try JSONParser.parse(bytes)]) } catch {}
        var out: [JSONValue] = []
        for (n, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
            do { out.append(try JSONParser.parse(line)) } catch {
                return .failure(AgentOutputError("line \(n + 1) is not JSON (\(error)); the output may be truncated"))
            }
        }
        return .success(out)
    }

    static func int(_ v: JSONValue?) -> Int { v?.intValue ?? 0 }

    // MARK: claude

    static func claude(_ bytes: [UInt8]) -> Result<AgentReport, AgentOutputError> {
        let values: [JSONValue]
        switch documents(bytes) {
        case .failure(let e):
            // stream-json cut short: a torn last line after a result line still has the result.
            guard let r = lastClaudeResult(inLinesOf: bytes) else { return .failure(e) }
            values = [r]
        case .success(let v): values = v
        }
        // `json` is one object (with --verbose, an array of messages); stream-json one per line.
        let flat = values.flatMap { $0.arrayValue ?? [$0] }
        guard let r = flat.last(where: { $0["type"]?.stringValue == "result" }) else {
            return .failure(AgentOutputError("no record of type \"result\" in claude's output (the stream ended early?)"))
        }
        return claudeResult(r)
    }

    static func lastClaudeResult(inLinesOf bytes: [UInt8]) -> JSONValue? {
        for line in bytes.split(separator: 0x0A).reversed() {
            do {
                let v = try JSONParser.parse(line)
                if v["type"]?.stringValue == "result" { return v }
            } catch { continue } // a torn line: the result record, if any, is before it
        }
        return nil
    }

    static func claudeResult(_ r: JSONValue) -> Result<AgentReport, AgentOutputError> {
        guard r.objectValue != nil else { return .failure(AgentOutputError("claude's result is not an object")) }
        var models: [AgentUsage.ModelTokens] = []
        for (name, m) in r["modelUsage"]?.objectValue ?? [] {
            models.append(.init(model: name, inputTokens: int(m["inputTokens"]), outputTokens: int(m["outputTokens"]),
                                cacheReadTokens: int(m["cacheReadInputTokens"]),
                                cacheWriteTokens: int(m["cacheCreationInputTokens"]), costUSD: m["costUSD"]?.doubleValue))
        }
        var usage: AgentUsage
        if let u = r["usage"], u.objectValue != nil {
            usage = AgentUsage(models: models, inputTokens: int(u["input_tokens"]), outputTokens: int(u["output_tokens"]),
                               cacheReadTokens: int(u["cache_read_input_tokens"]),
                               cacheWriteTokens: int(u["cache_creation_input_tokens"]))
        } else {
            usage = AgentUsage(models: models, costUSD: nil)
        }
        let modelCost = models.allSatisfy { $0.costUSD != nil } && !models.isEmpty
            ? models.reduce(0) { $0 + ($1.costUSD ?? 0) } : nil
        usage.costUSD = r["total_cost_usd"]?.doubleValue ?? r["cost_usd"]?.doubleValue ?? modelCost
        usage.apiMilliseconds = r["duration_api_ms"]?.intValue
        usage.turns = r["num_turns"]?.intValue
        usage.sessionID = r["session_id"]?.stringValue
        let subtype = r["subtype"]?.stringValue ?? "success"
        let isError = r["is_error"]?.boolValue ?? false
        let verdict: AgentVerdict
        if isError || subtype.hasPrefix("error") {
            let text = r["result"]?.stringValue ?? r["error"]?.stringValue
            verdict = .failure(subtype == "success" ? "is_error" : subtype, message: text.map { String($0.prefix(300)) })
        } else {
            verdict = .success
        }
        return .success(AgentReport(usage: usage, verdict: verdict, text: verdict.failed ? nil : r["result"]?.stringValue))
    }

    // MARK: gemini

    static func gemini(_ bytes: [UInt8], exitCode: Int?) -> Result<AgentReport, AgentOutputError> {
        let values: [JSONValue]
        switch documents(bytes) {
        case .failure(let e): return .failure(e)
        case .success(let v): values = v
        }
        guard values.count == 1, let r = values.first, r.objectValue != nil else {
            return .failure(AgentOutputError("gemini's output is not one JSON object"))
        }
        guard r["response"] != nil || r["stats"] != nil || r["error"] != nil else {
            return .failure(AgentOutputError("gemini's output has none of response, stats, error"))
        }
        var models: [AgentUsage.ModelTokens] = []
        var apiMs: Int?
        for (name, m) in r["stats"]?["models"]?.objectValue ?? [] {
            let t = m["tokens"]
            let cached = int(t?["cached"])
            models.append(.init(model: name, inputTokens: max(0, int(t?["prompt"]) - cached),
                                outputTokens: int(t?["candidates"]) + int(t?["thoughts"]), cacheReadTokens: cached))
            if let ms = m["api"]?["totalLatencyMs"]?.intValue { apiMs = (apiMs ?? 0) + ms }
        }
        var usage = AgentUsage(models: models, costUSD: nil, apiMilliseconds: apiMs,
                               sessionID: r["session_id"]?.stringValue ?? r["sessionId"]?.stringValue)
        usage.turns = nil
        let verdict: AgentVerdict
        if let e = r["error"], !e.isNull {
            let type = e["type"]?.stringValue ?? "error"
            let code = e["code"].map { $0.intValue.map(String.init) ?? $0.stringValue ?? "" } ?? ""
            let message = [e["message"]?.stringValue, code.isEmpty ? nil : "code \(code)"].compactMap { $0 }.joined(separator: "; ")
            verdict = .failure(type, message: String(message.prefix(300)))
        } else if let code = exitCode, code != 0 {
            let what = code == 53 ? "turn limit reached" : code == 42 ? "input error" : "the CLI failed"
            verdict = .failure("exit \(code)", message: what)
        } else {
            verdict = .success
        }
        return .success(AgentReport(usage: usage, verdict: verdict, text: r["response"]?.stringValue))
    }

    // MARK: codex

    static func codex(_ bytes: [UInt8]) -> Result<AgentReport, AgentOutputError> {
        let values: [JSONValue]
        switch documents(bytes) {
        case .failure(let e): return .failure(e)
        case .success(let v): values = v
        }
        var input = 0, cached = 0, output = 0, turns = 0
        var thread: String?
        var failure: AgentVerdict?
        var sawEvent = false
        var answer: String?
        for v in values {
            guard let type = v["type"]?.stringValue else { continue }
            sawEvent = true
            switch type {
            case "thread.started": thread = v["thread_id"]?.stringValue ?? thread
            case "item.completed" where v["item"]?["type"]?.stringValue == "agent_message":
                answer = v["item"]?["text"]?.stringValue ?? answer
            case "turn.completed":
                turns += 1
                input += int(v["usage"]?["input_tokens"])
                cached += int(v["usage"]?["cached_input_tokens"])
                output += int(v["usage"]?["output_tokens"])
            case "turn.failed":
                turns += 1
                let message = v["error"]?["message"]?.stringValue ?? v["error"]?.stringValue
                failure = .failure("turn.failed", message: message.map { String($0.prefix(300)) })
            case "error":
                let message = v["message"]?.stringValue ?? v["error"]?["message"]?.stringValue
                if failure == nil { failure = .failure("error", message: message.map { String($0.prefix(300)) }) }
            default: break
            }
        }
        guard sawEvent else { return .failure(AgentOutputError("no codex event (an object with \"type\") in the output")) }
        let model = AgentUsage.ModelTokens(model: "codex", inputTokens: max(0, input - cached), outputTokens: output,
                                           cacheReadTokens: cached)
        var usage = AgentUsage(models: turns > 0 || input > 0 ? [model] : [], costUSD: nil, turns: turns, sessionID: thread)
        if usage.models.isEmpty { usage.inputTokens = 0 }
        return .success(AgentReport(usage: usage, verdict: failure ?? .success, text: answer))
    }
}
