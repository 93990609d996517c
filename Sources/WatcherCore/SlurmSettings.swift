/// Where an agent runs: on the daemon's host (`local`), or as a Slurm job step started from it.
public enum AgentRunner: String, CaseIterable, Equatable, Sendable { case local, slurm }

/// The `slurm` block of an `agent`: what `srun` is asked for. Every field may be left out
/// (Slurm's defaults apply); `extra` is passed to `srun` as written, before the agent's argv.
public struct SlurmSettings: Equatable, Sendable {
    public var partition: String?
    public var account: String?
    /// Slurm's time limit (`--time`, e.g. `"00:30:00"`). The watcher's `timeoutSeconds` is what
    /// stops an attempt; keep this longer, or Slurm's TIMEOUT ends it first (`agent_crashed`).
    public var time: String?
    public var cpus: Int?
    public var mem: String?
    public var extra: [String]

    public init(partition: String? = nil, account: String? = nil, time: String? = nil, cpus: Int? = nil,
                mem: String? = nil, extra: [String] = []) {
        self.partition = partition
        self.account = account
        self.time = time
        self.cpus = cpus
        self.mem = mem
        self.extra = extra
    }
}
