import Glibc
import WatcherSystem

/// A test hook: with `AGENT_WATCHER_FAULT=<step>` (or `<step>:<n>` for the n-th time the step
/// is reached) in its environment, the daemon `_exit`s with status 99 right after that step.
/// Steps: `claim`, `validate`, `temp_write`, `temp_fsync`, `rename`, `folder_fsync`,
/// `transition_logged`, `archive`, `spawn_intent`, `spawned`, and for a jsonl main file's
/// append `append_logged` (its record durable) and `append_torn` (half of its lines written). Unset, it costs one comparison.
public enum FaultInjection {
    public static let exitStatus: Int32 = 99
    nonisolated(unsafe) static var remaining: [String: Int] = parse(SpawnRequest.currentEnvironment()["AGENT_WATCHER_FAULT"])

    static func parse(_ value: String?) -> [String: Int] {
        guard let value, !value.isEmpty else { return [:] }
        var out: [String: Int] = [:]
        for part in value.split(separator: ",") {
            let pieces = part.split(separator: ":")
            out[String(pieces[0])] = pieces.count > 1 ? Int(pieces[1]) ?? 1 : 1
        }
        return out
    }

    @inline(__always)
    public static func point(_ step: String) {
        guard !remaining.isEmpty, let n = remaining[step] else { return }
        if n <= 1 {
            Console.error("agent-watcher: fault injection: exiting after \(step)")
            _exit(exitStatus)
        }
        remaining[step] = n - 1
    }

    /// Whether the next `point(step)` exits (a step that does part of its work first).
    static func isDue(_ step: String) -> Bool {
        guard !remaining.isEmpty, let n = remaining[step] else { return false }
        return n <= 1
    }

    /// The hook for `AtomicFile.replace` of main files.
    static func atomicStep(_ step: AtomicFile.Step) {
        switch step {
        case .tempWritten: point("temp_write")
        case .tempSynced: point("temp_fsync")
        case .renamed: point("rename")
        case .directorySynced: point("folder_fsync")
        }
    }
}
