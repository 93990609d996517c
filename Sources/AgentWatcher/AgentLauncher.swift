import Foundation
import Glibc
import WatcherCore
import WatcherSystem

/// Builds the spawn request of one attempt: prompt file, argv with placeholders filled in,
/// environment, log file.
struct AgentLauncher {
    let layout: Layout
    let context: RunContext
    /// The root the prompt file is written beneath (needed by ``request(for:attempt:previous:)``).
    var root: RootDirectory? = nil
    /// The temp name for the prompt's atomic replace (one of ``AtomicFile``'s tagged names).
    var tempName = ""
    /// This life's tag (``AtomicFile/tag``), part of every agent's token.
    var lifeTag = ""

    /// The prompt of one attempt: the phase's instructions, the batch's input items, the output
    /// path and (on a retry) the previous attempt. Reads the instructions and the input items;
    /// writes nothing.
    func prompt(for id: BatchID, attempt: Int, previous: PreviousAttempt?) throws -> String {
        guard let phase = context.phase(id.phase) else {
            throw SpecError(path: context.specPath, problems: ["phases: no phase \(id.phase)"])
        }
        let renderer = PromptRenderer(
            instructions: try context.instructions(for: phase), outputPath: layout.outputPath(id),
            stagingHint: "Write it under \(layout.outbox(id.run))/tmp/ first and rename it into place when it is complete, "
                + "or write it in place and exit when done.",
            output: .init(strategy: phase.output.strategy, key: phase.output.key, idField: phase.output.idField))
        return renderer.render(batch: id, attempt: attempt, itemIDs: context.ids(ofBatch: id.index),
                               inputItems: try context.inputJSON(for: id), previous: previous)
    }

    /// `budgetUSD`: the run's cost budget left per remaining batch (`{budget_usd}`), if it has one.
    func request(for id: BatchID, attempt: Int, previous: PreviousAttempt?, budgetUSD: Double? = nil) throws -> SpawnRequest {
        guard let phase = context.phase(id.phase), let agent = context.spec.agent(for: phase) else {
            throw SpecError(path: context.specPath, problems: ["phases: no agent command for phase \(id.phase)"])
        }
        let output = layout.outputPath(id)
        let range = context.plan.itemRange(ofBatch: id.index)
        let prompt = try self.prompt(for: id, attempt: attempt, previous: previous)
        let promptFile = layout.promptFile(id, attempt: attempt)
        // Replaced, never written through: a link planted at the prompt's name is replaced by
        // the prompt, and what it pointed to is untouched.
        guard let root else { throw SystemError(operation: "open", path: promptFile, errno: .badFileDescriptor) }
        try root.replace(promptFile, with: Array(prompt.utf8), tempName: tempName)
        var values: [String: String] = [
            "prompt_file": promptFile, "output": output, "run": id.run, "phase": id.phase,
            "batch": String(id.index), "start": String(range.lowerBound + 1), "end": String(range.upperBound),
            "attempt": String(attempt),
        ]
        if let budgetUSD { values["budget_usd"] = CostFormat.usd(budgetUSD) }
        // A process with only AGENT_WATCHER_ROOT is a stranger: the token names this life and attempt.
        var env = root.childEnvironment(ProcessInfo.processInfo.environment, extra: agent.env, rootPath: layout.root,
                                        token: AgentToken(lifeTag: lifeTag, id: id, attempt: attempt).text)
        env["AGENT_WATCHER_RUN"] = id.run
        env["AGENT_WATCHER_PHASE"] = id.phase
        env["AGENT_WATCHER_BATCH"] = String(id.index)
        env["AGENT_WATCHER_ATTEMPT"] = String(attempt)
        env["AGENT_WATCHER_OUTPUT"] = output
        env["AGENT_WATCHER_PROMPT_FILE"] = promptFile
        return SpawnRequest(argv: agent.argv.map { Placeholders.fill($0, values) }, environment: env,
                            workingDirectory: context.baseDir,
                            stdinPath: agent.prompt == .stdin ? promptFile : nil,
                            // A JSON agent's stdout is read when it exits: its stderr goes to the log.
                            outputPath: agent.output.isJSON ? layout.agentStdout(id, attempt: attempt) : layout.agentLog(id, attempt: attempt),
                            errorPath: agent.output.isJSON ? layout.agentLog(id, attempt: attempt) : nil)
    }
}

/// `{name}` substitution in argv elements; unknown names are left as they are.
public enum Placeholders {
    public static func fill(_ template: String, _ values: [String: String]) -> String {
        guard template.contains("{") else { return template }
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            out += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            if let v = values[name] { out += v } else { out += rest[open...close] }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}
