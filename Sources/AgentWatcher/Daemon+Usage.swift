import WatcherCore
import WatcherSystem

extension Daemon {
    /// For a JSON agent (`agent.output`): its standard output since it started, parsed into
    /// usage (priced from the spec's `prices` when the CLI gives no money) and the CLI's verdict,
    /// or why it could not be read. Nil for a text agent.
    func agentOutcome(_ id: BatchID, attempt: Int, from offset: Int64, exitCode: Int?) -> AgentOutcome? {
        guard let ctx = runs[id.run], let phase = ctx.phase(id.phase), let agent = ctx.spec.agent(for: phase),
              agent.output.isJSON else { return nil }
        let path = layout.agentStdout(id, attempt: attempt)
        let bytes: [UInt8]
        do {
            bytes = FileSystem.exists(path) ? try FileSystem.readTail(path, from: offset, limit: 64 << 20) : []
        } catch {
            return .unreadable(AgentOutputError("\(path): cannot read the agent's output: \(error)"))
        }
        switch AgentOutputParser.parse(agent.output, stdout: bytes, exitCode: exitCode) {
        case .success(var report):
            report.usage = report.usage.priced(with: ctx.spec.prices)
            return .report(report)
        case .failure(let e):
            return .unreadable(AgentOutputError("\(agent.output.rawValue): \(e.message)"))
        }
    }
}
