import Testing
@testable import WatcherCore

/// The three CLIs' headless output, in the shapes their documentation gives.
@Suite struct AgentOutputParserTests {
    static let claudeSuccess = #"""
    {"type":"result","subtype":"success","is_error":false,"duration_ms":12000,"duration_api_ms":9800,"num_turns":4,
     "result":"Wrote the batch.","session_id":"sess-1","total_cost_usd":0.0421,
     "usage":{"input_tokens":1200,"output_tokens":800,"cache_creation_input_tokens":3000,"cache_read_input_tokens":20000},
     "modelUsage":{"claude-sonnet-4-5":{"inputTokens":1200,"outputTokens":800,"cacheReadInputTokens":20000,
       "cacheCreationInputTokens":3000,"costUSD":0.0421}}}
    """#

    func parse(_ kind: AgentOutputKind, _ text: String, exit: Int? = 0) -> Result<AgentReport, AgentOutputError> {
        AgentOutputParser.parse(kind, stdout: Array(text.utf8), exitCode: exit)
    }

    func report(_ kind: AgentOutputKind, _ text: String, exit: Int? = 0) throws -> AgentReport {
        try parse(kind, text, exit: exit).get()
    }

    @Test func claudeJSONSuccess() throws {
        let r = try report(.claudeJSON, Self.claudeSuccess)
        #expect(r.verdict == .success)
        #expect(r.usage.inputTokens == 1200 && r.usage.outputTokens == 800)
        #expect(r.usage.cacheReadTokens == 20000 && r.usage.cacheWriteTokens == 3000)
        #expect(r.usage.costUSD == 0.0421 && !r.usage.estimated)
        #expect(r.usage.apiMilliseconds == 9800 && r.usage.turns == 4 && r.usage.sessionID == "sess-1")
        #expect(r.usage.models.map(\.model) == ["claude-sonnet-4-5"])
    }

    @Test func claudeStreamJSONTakesTheLastResultLine() throws {
        let stream = #"{"type":"system","subtype":"init","session_id":"s2"}"# + "\n"
            + #"{"type":"assistant","message":{"content":[]}}"# + "\n"
            + #"{"type":"result","subtype":"success","is_error":false,"num_turns":2,"session_id":"s2","total_cost_usd":0.5,"usage":{"input_tokens":10,"output_tokens":5}}"# + "\n"
        let r = try report(.claudeJSON, stream)
        #expect(r.usage.costUSD == 0.5 && r.usage.turns == 2 && r.usage.inputTokens == 10)
    }

    @Test func aTornLineAfterTheResultLeavesTheResult() throws {
        let stream = #"{"type":"result","subtype":"success","is_error":false,"total_cost_usd":0.25,"usage":{"input_tokens":1,"output_tokens":2}}"#
            + "\n" + #"{"type":"syst"#
        #expect(try report(.claudeJSON, stream).usage.costUSD == 0.25)
    }

    @Test func claudeAPIFailureWithSubtypeSuccessIsAFailure() throws {
        let text = #"{"type":"result","subtype":"success","is_error":true,"result":"API Error: 529 {\"type\":\"overloaded_error\"}","session_id":"s","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0}}"#
        let r = try report(.claudeJSON, text)
        #expect(r.verdict.failed && r.verdict.kind == "is_error")
        #expect(r.verdict.failureClass == .transient)
    }

    @Test func claudeErrorSubtypesAreCrashes() throws {
        let text = #"{"type":"result","subtype":"error_max_turns","is_error":false,"num_turns":30,"session_id":"s","total_cost_usd":1.25}"#
        let r = try report(.claudeJSON, text)
        #expect(r.verdict.failed && r.verdict.kind == "error_max_turns")
        #expect(r.verdict.failureClass == .agentCrashed)
        #expect(r.usage.costUSD == 1.25 && r.usage.totalTokens == 0) // missing usage: zero tokens, the cost kept
    }

    @Test func claudeStreamCutBeforeTheResultIsAnError() {
        let stream = #"{"type":"system","subtype":"init","session_id":"s2"}"# + "\n" + #"{"type":"assistant","mess"#
        guard case .failure(let e) = parse(.claudeJSON, stream) else { Issue.record("parsed a torn stream"); return }
        #expect(e.message.contains("line 2"))
        guard case .failure(let e2) = parse(.claudeJSON, #"{"type":"system"}"#) else { Issue.record("no result"); return }
        #expect(e2.message.contains("result"))
    }

    @Test func emptyAndTextOutputAreErrors() {
        guard case .failure(let e) = parse(.claudeJSON, "\n") else { Issue.record("parsed nothing"); return }
        #expect(e.message.contains("nothing"))
        guard case .failure = parse(.geminiJSON, "I wrote the file.") else { Issue.record("parsed prose"); return }
    }

    static let geminiSuccess = #"""
    {"response":"Done.","stats":{"models":{"gemini-2.5-pro":{"api":{"totalRequests":3,"totalErrors":0,"totalLatencyMs":4200},
     "tokens":{"prompt":5000,"candidates":700,"total":5900,"cached":4000,"thoughts":200,"tool":0}}}}}
    """#

    @Test func geminiSuccessGivesTokensOnly() throws {
        let r = try report(.geminiJSON, Self.geminiSuccess)
        #expect(r.verdict == .success)
        #expect(r.usage.inputTokens == 1000 && r.usage.cacheReadTokens == 4000 && r.usage.outputTokens == 900)
        #expect(r.usage.apiMilliseconds == 4200 && r.usage.costUSD == nil)
        let priced = r.usage.priced(with: ["gemini-2.5-pro": .init(input: 1.25, output: 10, cacheRead: 0.31)])
        #expect(priced.estimated)
        #expect(abs((priced.costUSD ?? 0) - (1000 * 1.25 + 900 * 10 + 4000 * 0.31) / 1e6) < 1e-12)
        #expect(r.usage.priced(with: ["other": .init(input: 1, output: 1)]).costUSD == nil)
    }

    @Test func geminiErrorObjectAndExitCodes() throws {
        let limited = #"{"error":{"type":"ApiError","message":"Resource exhausted: quota","code":429}}"#
        let r = try report(.geminiJSON, limited, exit: 1)
        #expect(r.verdict.failed && r.verdict.failureClass == .transient)
        let turns = try report(.geminiJSON, Self.geminiSuccess, exit: 53)
        #expect(turns.verdict.failed && turns.verdict.kind == "exit 53" && turns.verdict.failureClass == .agentCrashed)
        #expect(turns.usage.outputTokens == 900)
    }

    static let codexSuccess = [
        #"{"type":"thread.started","thread_id":"th-9"}"#, #"{"type":"turn.started"}"#,
        #"{"type":"item.completed","item":{"id":"i0","type":"agent_message","text":"done"}}"#,
        #"{"type":"turn.completed","usage":{"input_tokens":3000,"cached_input_tokens":2000,"output_tokens":400}}"#,
    ].joined(separator: "\n") + "\n"

    @Test func codexSuccess() throws {
        let r = try report(.codexJSONL, Self.codexSuccess)
        #expect(r.verdict == .success && r.usage.sessionID == "th-9" && r.usage.turns == 1)
        #expect(r.usage.inputTokens == 1000 && r.usage.cacheReadTokens == 2000 && r.usage.outputTokens == 400)
    }

    @Test func codexTurnFailedAndErrorEvents() throws {
        let failed = #"{"type":"thread.started","thread_id":"t"}"# + "\n" + #"{"type":"turn.failed","error":{"message":"model refused"}}"#
        let r = try report(.codexJSONL, failed)
        #expect(r.verdict.failed && r.verdict.kind == "turn.failed" && r.verdict.failureClass == .agentCrashed)
        let limited = #"{"type":"error","message":"stream error: 429 Too Many Requests"}"#
        #expect(try report(.codexJSONL, limited).verdict.failureClass == .transient)
    }

    @Test func codexTruncatedStreamIsAnError() {
        let torn = Self.codexSuccess + #"{"type":"turn.comp"#
        guard case .failure(let e) = parse(.codexJSONL, torn) else { Issue.record("parsed a torn line"); return }
        #expect(e.message.contains("line 5"))
        guard case .failure = parse(.codexJSONL, #"{"no":"type"}"#) else { Issue.record("no events"); return }
    }
}
