import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem
import XCTest

/// Helpers for the message broker's end-to-end tests (`MessageBrokerTests`).
extension EndToEndTestCase {
    /// Starts `agent-watcher run` with extra environment variables (the broker's ack timeout is
    /// one), waits until it has logged `watcher.started`, and stops it when the test ends.
    func startDaemon(_ sandbox: Sandbox, spec: String, environment extra: [String: String] = [:]) throws -> ChildProcess {
        var env = SpawnRequest.currentEnvironment()
        for (k, v) in extra { env[k] = v }
        let daemon = try ChildProcess(argv: [AgentWatcherBinary.path, "run", "--pipeline", spec, "--root", sandbox.root],
                                      outputBase: sandbox.root + "/e2e/daemon-\(UInt32.random(in: 0...UInt32.max))",
                                      workingDirectory: sandbox.root, environment: env)
        addTeardownBlock { _ = try? daemon.stop(within: 30) } // before the sandbox is removed
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "watcher.started") {
            $0.event == "watcher.started" && $0.pid == daemon.pid
        }
        return daemon
    }

    /// A one-phase run whose agents publish their batch at once, for tests that need a daemon
    /// but nothing of its pipeline. Returns the spec's path.
    func installQuietPipeline(_ sandbox: Sandbox, run: String = "quiet", overrides: [String: Any] = [:]) throws -> String {
        let spec = Fixtures.spec(run: run, batchSize: 1, phases: [Fixtures.objectPhase("1", file: "out/\(run).json")],
                                 overrides: overrides)
        return try Fixtures.install(in: sandbox, spec: spec, itemCount: 1,
                                    agentBody: #"object_batch "$start" "$end" | publish "$out""#)
    }
}

/// The `message.*` records about message `id`.
func messageEvents(_ records: [LogRecord], id: String) -> [String] {
    records.filter { $0.event.hasPrefix("message.") && $0["id"]?.string == id }.map(\.event)
}

/// Waits, on inotify (never by sleeping), until the file at `path` contains `text`.
func waitForText(_ text: String, in path: String, deadline: Deadline) throws {
    let inotify = try Inotify()
    defer { try? inotify.close() }
    _ = try inotify.addWatch(Path.parent(path), mask: [.create, .modify, .closeWrite, .movedTo])
    while true {
        let contents = FileSystem.exists(path) ? String(decoding: try FileSystem.readFile(path), as: UTF8.self) : ""
        if contents.contains(text) { return }
        let timeout = deadline.pollTimeout
        if timeout == 0 { throw E2EError("timed out waiting for \"\(text)\" in \(path); it holds:\n\(contents)") }
        _ = try Poller.wait([inotify.fileDescriptor], timeoutMilliseconds: timeout)
        _ = try inotify.readEvents()
    }
}
