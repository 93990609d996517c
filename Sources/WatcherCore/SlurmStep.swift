/// One attempt as a Slurm job step: `srun`, held as the daemon's child, runs the agent's argv
/// on a node. Pure: the argv of `srun`, `scancel` and `squeue`, and what their output means.
///
/// Why `srun` and not `sbatch`: `srun` returns the task's exit code the moment it ends (the
/// daemon reaps it like a local agent), passes the prompt on stdin, and the job dies with it;
/// `sbatch --wait` polls at 2, 8, 32 s (a 12 s job returns after about 42 s) and would need a
/// shell script as the batch script. Measured side by side in Benchmarks (scenario slurm).
public enum SlurmStep {
    /// `aw-<run>-<phase>-<batch>-<attempt>`: what `squeue` and `show` call the job.
    public static func jobName(_ id: BatchID, attempt: Int) -> String {
        "aw-\(id.run)-\(id.phase)-\(id.index)-\(attempt)"
    }

    /// The job's comment: the root's identity and the attempt's token, so that a restart tells
    /// this root's jobs from another root's with the same run names.
    public static func comment(rootID: String, token: String) -> String { "agent-watcher \(rootID) \(token)" }

    /// `srun` with the settings, then `--`, then the agent's own argv (never through a shell).
    /// `--verbose` makes `srun` print the job id on its standard error at once.
    public static func argv(agent: [String], settings: SlurmSettings, jobName: String, comment: String,
                            workingDirectory: String) -> [String] {
        var a = ["srun", "--verbose", "--job-name=\(jobName)", "--comment=\(comment)", "--ntasks=1", "--nodes=1",
                 "--chdir=\(workingDirectory)", "--export=ALL", "--kill-on-bad-exit=1"]
        if let v = settings.partition { a.append("--partition=\(v)") }
        if let v = settings.account { a.append("--account=\(v)") }
        if let v = settings.time { a.append("--time=\(v)") }
        if let v = settings.cpus { a.append("--cpus-per-task=\(v)") }
        if let v = settings.mem { a.append("--mem=\(v)") }
        return a + settings.extra + ["--"] + agent
    }

    /// The job id in `srun`'s standard error (`srun: jobid 12: nodes(1)...` once allocated, or
    /// `srun: job 12 queued and waiting for resources` before), if it is there yet.
    public static func jobID(inStderr text: Substring) -> String? {
        for marker in ["srun: jobid ", "srun: job "] {
            var rest = text[...]
            while let r = rest.firstRange(of: marker) {
                let digits = rest[r.upperBound...].prefix { $0.isASCII && $0.isNumber }
                if !digits.isEmpty { return String(digits) }
                rest = rest[r.upperBound...]
            }
        }
        return nil
    }

    /// Slurm's own escalation instead of a signal to `srun` (which SIGKILLs the task at once):
    /// `scancel --signal=TERM` first (the task gets SIGTERM), then `scancel` (SIGTERM, then
    /// SIGKILL after `KillWait`). By job id when known, else by the attempt's unique job name.
    public static func cancelArgv(jobID: String?, jobName: String, terminateOnly: Bool) -> [String] {
        var a = ["scancel", "--quiet"]
        if terminateOnly { a.append("--signal=TERM") }
        if let jobID { a.append(jobID) } else { a.append("--name=\(jobName)") }
        return a
    }

    /// `squeue` listing every job with its id, name and comment, one per line.
    public static let queueArgv = ["squeue", "--noheader", "--format=%i|%j|%k"]

    public struct QueuedJob: Equatable, Sendable {
        public var id: String
        public var name: String
        public var comment: String
        public init(id: String, name: String, comment: String) {
            self.id = id
            self.name = name
            self.comment = comment
        }
    }

    /// The jobs of `squeue`'s output (``queueArgv``) that carry this root's identity.
    public static func jobs(ofRoot rootID: String, squeueOutput: String) -> [QueuedJob] {
        squeueOutput.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard f.count == 3, f[2].hasPrefix("agent-watcher \(rootID) ") else { return nil }
            return QueuedJob(id: f[0].filter { $0 != " " }, name: f[1], comment: f[2])
        }
    }

    /// This root's jobs left by a previous life: those an adopted `srun` holds (by job name) are
    /// kept, every other one is to be cancelled.
    public static func previousLife(ofRoot rootID: String, squeueOutput: String, adopted: Set<String>)
        -> (kept: [QueuedJob], cancel: [QueuedJob]) {
        let mine = jobs(ofRoot: rootID, squeueOutput: squeueOutput)
        return (mine.filter { adopted.contains($0.name) }, mine.filter { !adopted.contains($0.name) })
    }

    /// The attempt token in a job's comment (``comment(rootID:token:)``).
    public static func token(inComment comment: String) -> String? {
        let parts = comment.split(separator: " ")
        return parts.count == 3 ? String(parts[2]) : nil
    }

    /// Slurm's verdicts that are not the batch's fault, as they appear in `srun`'s standard error
    /// (`*** STEP 12.0 ON node CANCELLED AT ... DUE TO PREEMPTION ***`, `NODE_FAIL`): `transient`.
    public static let transientPatterns = ["DUE TO PREEMPTION", "DUE TO NODE FAIL", #"\bPREEMPTED\b"#, #"\bNODE_FAIL\b"#]
}
