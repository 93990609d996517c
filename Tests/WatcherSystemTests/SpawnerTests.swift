#if canImport(Glibc)
import Glibc
#endif
import XCTest
import WatcherSystem

final class SpawnerTests: XCTestCase {
    private var tmp: TemporaryDirectory!
    private var log: String { tmp.file("out.log") }

    override func setUpWithError() throws {
        tmp = try TemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try tmp.remove()
    }

    private func request(_ argv: [String], stdin: String? = nil, cwd: String? = nil,
                         environment: [String: String] = ["PATH": "/usr/bin:/bin"]) -> SpawnRequest {
        SpawnRequest(argv: argv, environment: environment, workingDirectory: cwd, stdinPath: stdin, outputPath: log)
    }

    func testStdoutAndStderrGoToTheOutputFile() throws {
        let pid = try Spawner.spawn(request(["/bin/sh", "-c", "echo hi; echo err >&2"]))
        XCTAssertEqual(try ProcessControl.waitBlocking(pid), .exited(0))
        XCTAssertEqual(try readText(log), "hi\nerr\n")
    }

    /// An output named by path is never written through a link planted at its name, nor
    /// waited on as a FIFO nobody reads.
    func testOutputIsNeverALinkOrAFIFOWithoutReader() throws {
        let target = tmp.file("target")
        XCTAssertEqual(symlink(target, log), 0)
        XCTAssertThrowsError(try Spawner.spawn(request(["/bin/echo", "hi"]))) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .tooManySymlinks, "\(error)")
        }
        XCTAssertFalse(FileSystem.exists(target))
        XCTAssertEqual(unlink(log), 0)
        XCTAssertEqual(mkfifo(log, 0o644), 0)
        XCTAssertThrowsError(try Spawner.spawn(request(["/bin/echo", "hi"]))) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .noDeviceOrAddress, "\(error)")
        }
    }

    func testOutputIsAppended() throws {
        try writeFile(log, "before\n")
        let pid = try Spawner.spawn(request(["echo", "after"]))
        XCTAssertEqual(try ProcessControl.waitBlocking(pid), .exited(0))
        XCTAssertEqual(try readText(log), "before\nafter\n")
    }

    func testExitCode() throws {
        let pid = try Spawner.spawn(request(["/bin/sh", "-c", "exit 3"]))
        let status = try ProcessControl.waitBlocking(pid)
        XCTAssertEqual(status, .exited(3))
        XCTAssertEqual(status.description, "exit 3")
    }

    func testMissingExecutable() throws {
        for program in ["/nonexistent/agent", "no-such-program-anywhere"] {
            XCTAssertThrowsError(try Spawner.spawn(request([program]))) { error in
                XCTAssertEqual(error as? SystemError, SystemError(operation: "spawn", path: program, errno: .noSuchFile))
            }
        }
    }

    func testProgramIsLookedUpOnTheRequestsPath() throws {
        let bin = tmp.file("bin")
        try FileSystem.createDirectory(bin)
        try writeFile(Path.join(bin, "my-agent"), "#!/bin/sh\necho from my-agent\n")
        XCTAssertEqual(chmod(Path.join(bin, "my-agent"), 0o755), 0)
        let pid = try Spawner.spawn(request(["my-agent"], environment: ["PATH": bin]))
        XCTAssertEqual(try ProcessControl.waitBlocking(pid), .exited(0))
        XCTAssertEqual(try readText(log), "from my-agent\n")
    }

    func testEnvironmentAndWorkingDirectory() throws {
        let pid = try Spawner.spawn(request(["/bin/sh", "-c", "pwd; echo \"$GREETING\"; echo ${HOME:-unset}"],
                                            cwd: tmp.path, environment: ["GREETING": "hello there"]))
        XCTAssertEqual(try ProcessControl.waitBlocking(pid), .exited(0))
        XCTAssertEqual(try readText(log), "\(try FileSystem.realPath(tmp.path))\nhello there\nunset\n")
    }

    func testBadWorkingDirectoryNamesIt() throws {
        let missing = tmp.file("missing")
        XCTAssertThrowsError(try Spawner.spawn(request(["/bin/true"], cwd: missing))) { error in
            XCTAssertEqual((error as? SystemError)?.path, missing)
        }
    }

    func testStdinFromFile() throws {
        let input = tmp.file("in.txt")
        try writeFile(input, "line one\nline two\n")
        let pid = try Spawner.spawn(request(["cat"], stdin: input))
        XCTAssertEqual(try ProcessControl.waitBlocking(pid), .exited(0))
        XCTAssertEqual(try readText(log), "line one\nline two\n")
    }

    func testStdinDefaultsToDevNull() throws {
        let pid = try Spawner.spawn(request(["cat"]))
        XCTAssertEqual(try ProcessControl.waitBlocking(pid), .exited(0))
        XCTAssertEqual(try readText(log), "")
    }

    func testChildLeadsItsOwnProcessGroup() throws {
        let pid = try Spawner.spawn(request(["sleep", "100"]))
        XCTAssertEqual(getpgid(pid), pid)
        XCTAssertEqual(ProcessControl.processGroup(of: pid), pid)
        XCTAssertNotEqual(getpgid(pid), getpgrp())
        XCTAssertNotNil(ProcessControl.startTime(of: pid))
        XCTAssertTrue(try ProcessControl.signalGroup(pid, SIGKILL))
        XCTAssertEqual(try ProcessControl.waitBlocking(pid), .signaled(SIGKILL))
    }

    func testOnlyStandardDescriptorsAreInherited() throws {
        // A descriptor opened without O_CLOEXEC must still not reach the child.
        let leaky = open(tmp.path, O_RDONLY)
        XCTAssertGreaterThan(leaky, 2)
        defer { close(leaky) }
        let pid = try Spawner.spawn(request(["sleep", "100"]))
        // posix_spawn returns after the child's exec, so its table is final.
        let fds = try FileSystem.listDirectory("/proc/\(pid)/fd").map(\.name).sorted()
        XCTAssertTrue(try ProcessControl.signal(pid, SIGKILL))
        XCTAssertEqual(try ProcessControl.waitBlocking(pid), .signaled(SIGKILL))
        XCTAssertEqual(fds, ["0", "1", "2"])
    }

    func testSignalsAreResetAndUnblockedInTheChild() throws {
        // Block and ignore in the parent; the child must get defaults anyway.
        try Signals.block([SIGTERM])
        defer { try? Signals.unblock([SIGTERM]) }
        Signals.ignore(SIGPIPE)
        let pid = try Spawner.spawn(request(["/bin/sh", "-c", "grep -E '^(SigBlk|SigIgn)' /proc/self/status"]))
        XCTAssertEqual(try ProcessControl.waitBlocking(pid), .exited(0))
        let text = try readText(log)
        XCTAssertTrue(text.contains("SigBlk:\t0000000000000000"), text)
        // SigIgn may hold glibc's internal real-time signals, never the defaulted ones.
        let ignoredLine = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("SigIgn:") })
        let ignored = try XCTUnwrap(UInt64(ignoredLine.dropFirst("SigIgn:\t".count), radix: 16))
        for signal in Spawner.defaultedSignals {
            XCTAssertEqual(ignored & (1 << UInt64(signal - 1)), 0, ExitStatus.signalName(signal))
        }
    }

    func testTerminatingTheGroupKillsGrandchildren() throws {
        // Orphaned grandchildren become our children, so this test can reap them.
        try ProcessControl.becomeChildSubreaper()
        let pid = try Spawner.spawn(request(["/bin/sh", "-c", "sleep 100 & echo started; sleep 100"]))
        XCTAssertTrue(try waitForContents(log, containing: "started"))
        let members = try ProcessControl.processes(inGroup: pid)
        XCTAssertTrue(members.contains(pid))
        XCTAssertGreaterThanOrEqual(members.count, 2, "the shell and its background sleep")

        XCTAssertTrue(try ProcessControl.signalGroup(pid, SIGTERM))
        XCTAssertEqual(try ProcessControl.waitBlocking(pid), .signaled(SIGTERM))
        // Reap the rest of the group (ours now); each wait blocks until that one died.
        for _ in 0..<10 where ProcessControl.isGroupAlive(pid) {
            for member in try ProcessControl.processes(inGroup: pid) {
                XCTAssertEqual(try ProcessControl.waitBlocking(member), .signaled(SIGTERM))
            }
        }
        XCTAssertFalse(ProcessControl.isGroupAlive(pid))
        XCTAssertFalse(try ProcessControl.signalGroup(pid, SIGTERM), "ESRCH is not an error")
    }

    func testReapAny() throws {
        _ = try ProcessControl.reapAny()  // leftovers of other tests, if any
        let pid = try Spawner.spawn(request(["/bin/sh", "-c", "exit 7"]))
        let pidfd = try ProcessControl.openPIDFD(pid)
        var reaped: [(pid: pid_t, status: ExitStatus)] = []
        let done = try waitUntil(fds: [pidfd.rawValue], pump: { reaped += try ProcessControl.reapAny() }) {
            reaped.contains { $0.pid == pid }
        }
        XCTAssertTrue(done)
        XCTAssertEqual(reaped.first { $0.pid == pid }?.status, .exited(7))
        XCTAssertEqual(try ProcessControl.reapAny().count, 0)
    }

    func testRefusesToSignalGroupZeroOrOne() {
        XCTAssertThrowsError(try ProcessControl.signalGroup(0, 0))
        XCTAssertThrowsError(try ProcessControl.signalGroup(1, 0))
        XCTAssertFalse(ProcessControl.isGroupAlive(1))
    }
}
