import WatcherCore

extension Layout {
    /// Every folder the daemon makes temps in (the atomic create of a note, a report or a
    /// checksum, the atomic replace of a prompt, the pid file, a main file), for the sweep of
    /// a previous life's temps at a start: `logs/`, `control/rejected/`, and for every run
    /// configured (`runs`) or found as a folder of the mailbox (`mailboxFolders`: files for an
    /// unknown run are refused into its `rejected/`) its `accepted/` and `rejected/`; every
    /// `agents/<name>/rejected/` (`agentNames`); and every `logs/agents/<run>/` with its
    /// `refused/` (`agentLogRuns`). The main files' folders are the spec's and added by the caller.
    public func tempFolders(runs: [String], mailboxFolders: [String], agentNames: [String],
                            agentLogRuns: [String]) -> Set<String> {
        var folders: Set<String> = [logs, control + "/rejected"]
        // Any name: files for a folder with a name no run could have are refused into it too.
        for run in Set(runs + mailboxFolders.filter { $0 != "control" && $0 != "agents" }) {
            folders.formUnion([accepted(run), rejected(run)])
        }
        for name in agentNames { folders.insert(agentRejected(name)) }
        for run in Set(runs + agentLogRuns) {
            folders.formUnion([agentLogs(run), agentLogs(run) + "/refused"])
        }
        return folders
    }
}
