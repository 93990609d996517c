import Foundation
import WatcherSystem

/// How a person types this program from where they are, for hints printed to them: `swift run
/// agent-watcher` when it was built by SwiftPM and they are in its package folder (`swift run
/// --package-path DIR agent-watcher` from elsewhere), else the executable's own path.
public enum Invocation {
    public static var command: String {
        guard let exe = try? FileSystem.executablePath() else { return "agent-watcher" } // only a hint
        return command(executable: exe, cwd: FileManager.default.currentDirectoryPath)
    }

    /// Pure: the command for an executable at `executable` typed in `cwd`.
    public static func command(executable: String, cwd: String) -> String {
        guard let r = executable.range(of: "/.build/") else { return executable }
        let package = String(executable[..<r.lowerBound])
        return package == cwd ? "swift run agent-watcher" : "swift run --package-path \(package) agent-watcher"
    }
}
