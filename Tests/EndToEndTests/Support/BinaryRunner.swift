import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem
import XCTest

/// The built `agent-watcher` executable: it sits in the products directory, next to the
/// test bundle (the way swift-argument-parser's example tests find theirs).
enum AgentWatcherBinary {
    static let path: String = locate()

    static func locate() -> String {
        var folders: [URL] = [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        for bundle in Bundle.allBundles { folders.append(bundle.bundleURL) }
        for var folder in folders {
            if folder.lastPathComponent.hasSuffix(".xctest") { folder.deleteLastPathComponent() }
            let candidate = folder.appendingPathComponent("agent-watcher").path
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return Bundle.main.bundleURL.appendingPathComponent("agent-watcher").path
    }
}

/// A point in time on the monotonic clock, for waits that must end.
struct Deadline {
    let nanoseconds: UInt64

    static func seconds(_ s: Double) -> Deadline {
        Deadline(nanoseconds: Clock.monotonicNanoseconds() + UInt64(s * 1e9))
    }

    /// The `poll` timeout until the deadline: 0 once it has passed.
    var pollTimeout: Int32 { Poller.timeout(untilMonotonic: nanoseconds) }
    var hasPassed: Bool { Clock.monotonicNanoseconds() >= nanoseconds }
}

struct E2EError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A child started with WatcherSystem's `Spawner` (its own process group), with stdout and
/// stderr in two files. A `pidfd` lets waits end when it exits, without polling.
final class ChildProcess {
    let pid: pid_t
    let argv: [String]
    let stdoutPath: String
    let stderrPath: String
    let pidfd: FileDescriptor
    private(set) var status: ExitStatus?

    /// `sh -c 'exec "$@" 2>FILE'` only splits stderr from stdout (the Spawner sends both to
    /// one file); `exec` keeps the pid, so signals reach agent-watcher itself.
    /// `plainSpawnBlocking`: started with `PlainSpawn` instead (glibc's 32 and 33 ignored, these
    /// signals blocked), as a parent the daemon must not pass its signal state on from.
    init(argv: [String], outputBase: String, workingDirectory: String? = nil, environment: [String: String]? = nil,
         plainSpawnBlocking blocked: [Int32]? = nil) throws {
        self.argv = argv
        stdoutPath = outputBase + ".stdout"
        stderrPath = outputBase + ".stderr"
        let env = environment ?? SpawnRequest.currentEnvironment()
        if let blocked {
            let wrapped = ["/bin/sh", "-c", "cd \"$1\" && o=$2 e=$3 && shift 3 && exec \"$@\" >\"$o\" 2>\"$e\" </dev/null", "sh",
                           workingDirectory ?? "/", stdoutPath, stderrPath] + argv
            pid = try PlainSpawn.spawn(wrapped, environment: env, blocked: blocked)
        } else {
            let wrapped = ["/bin/sh", "-c", "f=$1; shift; exec \"$@\" 2>\"$f\"", "sh", stderrPath] + argv
            pid = try Spawner.spawn(SpawnRequest(
                argv: wrapped, environment: env,
                workingDirectory: workingDirectory, stdinPath: nil, outputPath: stdoutPath))
        }
        pidfd = try ProcessControl.openPIDFD(pid)
    }

    deinit {
        if status == nil {
            _ = try? ProcessControl.signal(pid, SIGKILL)
            _ = try? ProcessControl.waitBlocking(pid)
        }
        try? pidfd.close()
    }

    var stdout: String { (try? FileSystem.readFile(stdoutPath)).map { String(decoding: $0, as: UTF8.self) } ?? "" }
    var stderr: String { (try? FileSystem.readFile(stderrPath)).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    func signal(_ sig: Int32) throws {
        guard status == nil else { return }
        try ProcessControl.signal(pid, sig)
    }

    /// True once the process has ended (it is then reaped).
    func hasExited() throws -> Bool {
        if status != nil { return true }
        if try Poller.wait([pidfd.rawValue], timeoutMilliseconds: 0).isEmpty { return false }
        status = try ProcessControl.waitBlocking(pid)
        return true
    }

    /// Waits for the exit until `deadline`; nil if it still runs then.
    func wait(until deadline: Deadline) throws -> ExitStatus? {
        while status == nil {
            if try hasExited() { break }
            let timeout = deadline.pollTimeout
            if timeout == 0 { return nil }
            _ = try Poller.wait([pidfd.rawValue], timeoutMilliseconds: timeout)
        }
        return status
    }

    /// Waits for the exit; past the deadline the process is killed and the wait fails.
    @discardableResult
    func finish(within seconds: Double) throws -> ExitStatus {
        if let s = try wait(until: .seconds(seconds)) { return s }
        _ = try? ProcessControl.signal(pid, SIGKILL)
        status = try ProcessControl.waitBlocking(pid)
        throw E2EError("\(argv.joined(separator: " ")) did not exit within \(seconds) s; killed.\nstderr: \(stderr)")
    }

    /// SIGTERM, then the exit status (SIGKILL past the deadline).
    @discardableResult
    func stop(within seconds: Double = 30) throws -> ExitStatus {
        try signal(SIGTERM)
        return try finish(within: seconds)
    }
}

/// What a finished command printed and how it ended.
struct CLIResult {
    var status: ExitStatus
    var stdout: String
    var stderr: String

    var exitCode: Int32? { if case .exited(let c) = status { return c }; return nil }
}

/// A private temporary folder that is the `--root` of one test: it holds the pipeline spec,
/// the items, the fake agents and (under `mailbox/` and `logs/`) what the daemon makes.
/// Removed after a passing test, kept (and named) after a failing one.
final class Sandbox {
    let root: String
    private var counter = 0
    private var children: [ChildProcess] = []

    init(_ name: String) throws {
        root = try FileSystem.makeTemporaryDirectory("/tmp/aw-e2e-\(name)-")
        try FileSystem.createDirectory(root + "/logs")
        try FileSystem.createDirectory(root + "/e2e")
    }

    var eventLog: String { root + "/logs/events.jsonl" }

    func path(_ relative: String) -> String { relative.hasPrefix("/") ? relative : root + "/" + relative }

    func write(_ relative: String, _ text: String) throws {
        let p = path(relative)
        try FileSystem.createDirectory(Path.parent(p))
        let fd = try FileDescriptor.open(p, O_WRONLY | O_CREAT | O_TRUNC)
        try fd.writeAll(text)
        try fd.close()
    }

    /// Writes under `staging` first and renames into place, as a careful agent does.
    func publish(_ relative: String, _ text: String, staging: String) throws {
        let tmp = path(staging) + "/.e2e-\(counter)"
        counter += 1
        try write(tmp, text)
        try FileSystem.rename(tmp, path(relative))
    }

    func read(_ relative: String) throws -> String {
        String(decoding: try FileSystem.readFile(path(relative)), as: UTF8.self)
    }

    func exists(_ relative: String) -> Bool { FileSystem.exists(path(relative)) }

    func kind(_ relative: String) -> FileKind? { try? FileSystem.lstat(path(relative)).kind }

    func list(_ relative: String) -> [String] {
        ((try? FileSystem.listDirectory(path(relative))) ?? []).map(\.name).sorted()
    }

    /// Starts `agent-watcher ARGS` in the background.
    /// `binary: nil` runs `args` as the whole argv (another program).
    func start(_ args: [String], environment: [String: String]? = nil,
               binary: String? = AgentWatcherBinary.path) throws -> ChildProcess {
        counter += 1
        let name = (args.first ?? "").split(separator: "/").last.map(String.init) ?? ""
        let child = try ChildProcess(argv: (binary.map { [$0] } ?? []) + args, outputBase: root + "/e2e/\(counter)-\(name)",
                                     workingDirectory: root, environment: environment)
        children.append(child)
        return child
    }

    /// Runs `agent-watcher ARGS` to the end.
    func run(_ args: [String], within seconds: Double = 60, environment: [String: String]? = nil,
             binary: String? = AgentWatcherBinary.path) throws -> CLIResult {
        let child = try start(args, environment: environment, binary: binary)
        let status = try child.finish(within: seconds)
        return CLIResult(status: status, stdout: child.stdout, stderr: child.stderr)
    }

    /// Stops whatever is still running (SIGTERM lets a daemon stop its agents), then
    /// removes the folder unless the test failed.
    func cleanUp(keep: Bool) {
        for child in children where child.status == nil {
            _ = try? child.stop(within: 30)
        }
        children = []
        if keep {
            print("e2e: kept \(root) for inspection")
        } else {
            try? FileSystem.removeTree(root)
        }
    }
}

/// The common base: a sandbox per test, cleaned up after it.
class EndToEndTestCase: XCTestCase {
    private var sandboxes: [Sandbox] = []

    func makeSandbox(_ name: String = #function) throws -> Sandbox {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        let s = try Sandbox(String(clean.prefix(40)))
        sandboxes.append(s)
        return s
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard access(AgentWatcherBinary.path, X_OK) == 0 else {
            throw E2EError("no agent-watcher executable at \(AgentWatcherBinary.path): build the package first")
        }
    }

    override func tearDown() {
        let failed = (testRun?.failureCount ?? 0) + (testRun?.unexpectedExceptionCount ?? 0) > 0
        for s in sandboxes { s.cleanUp(keep: failed) }
        sandboxes = []
        super.tearDown()
    }
}
