#if canImport(Glibc)
import Glibc
#endif

/// Everything ``Spawner/spawn(_:)`` needs to start a program. No shell is involved:
/// `argv[0]` is the program, the rest are its arguments, passed as they are.
public struct SpawnRequest: Equatable, Sendable {
    /// The program and its arguments. `argv[0]` without a `/` is looked up on the
    /// `PATH` of ``environment`` (not the parent's); with a `/` it is used as is
    /// (a relative one is resolved from ``workingDirectory``).
    public var argv: [String]
    /// The child's whole environment; nothing else is inherited.
    public var environment: [String: String]
    /// The child's working directory; `nil` keeps the parent's.
    public var workingDirectory: String?
    /// The file the child reads as stdin; `nil` means `/dev/null`.
    public var stdinPath: String?
    /// The file the child's stdout and stderr are both appended to (created 0644).
    public var outputPath: String
    /// Where standard error goes (appended); nil = the same file as standard output.
    public var errorPath: String?
    /// Start the child in a session of its own (`setsid`) instead of only a process group of
    /// its own: for a daemon that must outlive its terminal.
    public var newSession = false
    /// An open descriptor for the child's stdout (and stderr) instead of opening ``outputPath``:
    /// for a log the caller opened safely (beneath a root, no link followed). Not closed here.
    public var outputDescriptor: Int32?
    /// Likewise for stderr instead of opening ``errorPath``.
    public var errorDescriptor: Int32?

    public init(
        argv: [String],
        environment: [String: String] = SpawnRequest.currentEnvironment(),
        workingDirectory: String? = nil,
        stdinPath: String? = nil,
        outputPath: String,
        errorPath: String? = nil
    ) {
        self.errorPath = errorPath
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.stdinPath = stdinPath
        self.outputPath = outputPath
    }

    /// This process's environment (`environ`), as a dictionary.
    public static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        let start: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ  // NULL after clearenv()
        guard var entry = start else { return result }
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }

    /// Where `argv[0]` will be executed from: itself if it holds a `/`, otherwise
    /// the first executable regular file of that name in the request's `PATH`
    /// (default `/usr/local/bin:/usr/bin:/bin`); `nil` if there is none.
    public func resolvedExecutable() -> String? {
        guard let name = argv.first, !name.isEmpty else { return nil }
        if name.contains("/") { return name }
        let searchPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = Path.join(directory.isEmpty ? "." : String(directory), name)
            if access(candidate, X_OK) == 0, (try? FileSystem.stat(candidate).kind) == .regular {
                return candidate
            }
        }
        return nil
    }
}
