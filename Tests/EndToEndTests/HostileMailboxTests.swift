import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherCore
import WatcherSystem
import XCTest

/// Whatever is written into the root, the daemon never leaves it, never loses a file and goes
/// on. Each case plants something hostile, then checks the record, where the file ended up,
/// that a decoy folder beside the root is byte for byte as it was, and that a later batch
/// still merges.
final class HostileMailboxTests: EndToEndTestCase {
    let outbox = "mailbox/d/outbox"
    let rejected = "mailbox/d/rejected"

    /// A folder outside the root, with a file in it, and the hash of its whole tree.
    final class Decoy {
        let path: String
        init() throws {
            path = try FileSystem.makeTemporaryDirectory("/tmp/aw-decoy-")
            let fd = try FileDescriptor.open(path + "/precious.json", O_WRONLY | O_CREAT | O_TRUNC)
            try fd.writeAll("{\"results\": {\"i2\": {\"id\": \"i2\", \"n\": 2}}}\n")
            try fd.close()
        }
        /// Every entry's name, kind, size, inode and contents, hashed (not its link count: a
        /// hard link refused into rejected/ keeps naming the same file).
        func fingerprint() throws -> String {
            var text = ""
            func walk(_ dir: String) throws {
                for e in try FileSystem.listDirectory(dir).sorted(by: { $0.name < $1.name }) {
                    let p = dir + "/" + e.name
                    let s = try FileSystem.lstat(p)
                    text += "\(p) \(s.kind) \(s.size) \(s.inode)\n"
                    if s.kind == .regular { text += SHA256.hex(try FileSystem.readFile(p)) + "\n" }
                    if s.kind == .directory { try walk(p) }
                }
            }
            try walk(path)
            return SHA256.hex(Array(text.utf8))
        }
        deinit { try? FileSystem.removeTree(path) } // a test folder; nothing to report
    }

    func startIdleRun(_ sandbox: Sandbox, items: Int = 6) throws -> ChildProcess {
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1, "maxFileBytes": 4096])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: items, agentBody: "exit 0")
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "d")
        }
        return daemon
    }

    /// Starts the daemon again on the same root and waits until it is watching.
    func restart(_ sandbox: Sandbox) throws -> ChildProcess {
        let again = try sandbox.start(["run", "--pipeline", sandbox.path("d.json"), "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: again, "the restart is watching") {
            $0.event == "watcher.ready" && $0["pid"]?.int == Int(again.pid)
        }
        return again
    }

    func batchText(_ k: Int) -> String { "{\"results\": {\"i\(k)\": \(Fixtures.item(k))}}\n" }

    /// A later batch still merges: the daemon answers.
    func assertStillMerges(_ sandbox: Sandbox, _ daemon: ChildProcess, batch k: Int,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        try sandbox.publish("\(outbox)/p1_batch_\(k).json", batchText(k), staging: "\(outbox)/tmp")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: daemon, "p1/\(k) merged") {
            $0.isTransition(phase: "p1", batch: k, to: "merged")
        }
        XCTAssertTrue(try sandbox.read("out/p1.json").contains("\"i\(k)\""), file: file, line: line)
    }

    func rejection(_ sandbox: Sandbox, _ daemon: ChildProcess, from suffix: String) throws -> LogRecord {
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: daemon, "file.rejected of \(suffix)") {
            $0.event == "file.rejected" && ($0["from"]?.string ?? "").hasSuffix(suffix)
        }
    }

    // MARK: - Names

    /// A 250-byte name (the old daemon died at every start: its note's temp name passed 255
    /// bytes) and names with control characters and leading dashes: refused with a record
    /// showing the name escaped, moved with a note whose name fits, and `tail` prints no raw
    /// control character.
    func testHostileNamesAreRefusedWithFittingNotesAndEscapedOutput() throws {
        let sandbox = try makeSandbox()
        let decoy = try Decoy()
        let before = try decoy.fingerprint()
        let daemon = try startIdleRun(sandbox)

        let long = String(repeating: "n", count: 245) + ".json"
        try sandbox.publish("\(outbox)/\(long)", "{}", staging: "\(outbox)/tmp")
        let r1 = try rejection(sandbox, daemon, from: "/" + long)
        let moved = try XCTUnwrap(r1["path"]?.string)
        XCTAssertTrue(FileSystem.exists(moved), r1.line)
        XCTAssertTrue(FileSystem.exists(moved + ".error"), "the note beside it")
        XCTAssertLessThanOrEqual(Path.basename(moved + ".error").utf8.count, 255)
        for entry in sandbox.list(rejected) { XCTAssertLessThanOrEqual(entry.utf8.count, 255, entry) }

        let nasty = "-rf \u{1B}[31mred\u{07}\nline.json"
        try sandbox.publish("\(outbox)/\(nasty)", "{}", staging: "\(outbox)/tmp")
        let r2 = try rejection(sandbox, daemon, from: "/" + nasty)
        XCTAssertEqual(r2["name"]?.string, DerivedName.escaped(nasty), r2.line)
        XCTAssertTrue(sandbox.exists("\(rejected)/\(nasty)"), "kept, under its own name")
        XCTAssertTrue(sandbox.exists("\(rejected)/\(nasty).error"))

        let tail = try sandbox.run(["tail", "--root", sandbox.root])
        XCTAssertEqual(tail.status, .exited(0), tail.stderr)
        XCTAssertFalse(tail.stdout.utf8.contains(0x1B), "no raw ESC reaches the terminal")
        XCTAssertFalse(tail.stdout.utf8.contains(0x07), "no raw BEL reaches the terminal")
        XCTAssertTrue(tail.stdout.contains("\\u{1b}[31mred"), tail.stdout)

        try assertStillMerges(sandbox, daemon, batch: 1)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        // And it starts again with all of it there.
        let again = try restart(sandbox)
        try assertStillMerges(sandbox, again, batch: 3)
        XCTAssertEqual(try again.stop(), .exited(0), again.stderr)
        XCTAssertEqual(try decoy.fingerprint(), before)
    }

    /// A name with a byte that is not UTF-8, dropped while the daemon runs and found at a
    /// start: refused with a record showing it escaped, moved to rejected/ under a UTF-8 name.
    func testANameThatIsNotUTF8IsRefusedWithARecord() throws {
        let sandbox = try makeSandbox()
        let daemon = try startIdleRun(sandbox)
        func drop(_ raw: [UInt8]) throws {
            let path = Array(sandbox.path(outbox).utf8) + [UInt8(ascii: "/")] + raw
            let fd = Glibc.open(path.map { CChar(bitPattern: $0) } + [0], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            XCTAssertGreaterThanOrEqual(fd, 0)
            XCTAssertEqual(Glibc.write(fd, "{}", 2), 2)
            XCTAssertEqual(Glibc.close(fd), 0)
        }
        try drop(Array("p1_batch_2".utf8) + [0xFF] + Array(".json".utf8))
        let r = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: daemon, "file.rejected (not UTF-8)") {
            $0.event == "file.rejected" && $0["name"]?.string == "p1_batch_2\\xff.json"
        }
        let dest = try XCTUnwrap(r["path"]?.string, r.line)
        XCTAssertEqual(try FileSystem.readFile(dest), Array("{}".utf8))
        XCTAssertTrue(FileSystem.exists(dest + ".error"))
        XCTAssertEqual(sandbox.list(outbox), ["tmp"], "nothing is left behind in the outbox")
        try assertStillMerges(sandbox, daemon, batch: 3)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        // Found by the scan at a start as well.
        try drop([0xC3, 0x28] + Array(".json".utf8))
        let again = try restart(sandbox)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: again, "file.rejected at start") {
            $0.event == "file.rejected" && $0["name"]?.string == "\\xc3(.json"
        }
        XCTAssertEqual(try again.stop(), .exited(0), again.stderr)
    }

    /// The daemon's notes never replace a file already kept under the name it would use.
    func testNotesNeverReplaceKeptFiles() throws {
        let sandbox = try makeSandbox()
        let daemon = try startIdleRun(sandbox)
        try sandbox.write("\(rejected)/notes.json.error", "mine\n")
        try sandbox.publish("\(outbox)/notes.json", "{}", staging: "\(outbox)/tmp")
        let r = try rejection(sandbox, daemon, from: "/notes.json")
        XCTAssertEqual(r["path"]?.string, sandbox.path("\(rejected)/notes.json.2"), r.line)
        XCTAssertEqual(try sandbox.read("\(rejected)/notes.json.error"), "mine\n", "the kept file is untouched")
        XCTAssertTrue(try sandbox.read("\(rejected)/notes.json.2.error").contains("not a batch output name"))
        try assertStillMerges(sandbox, daemon, batch: 2)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }

    // MARK: - Links

    /// A hard link to a file outside the root, made in place: refused at once (nlink 2),
    /// moved aside as a link, never merged; the outside file is unchanged.
    func testHardLinkToAFileOutsideIsRefusedAndNotMerged() throws {
        let sandbox = try makeSandbox()
        let decoy = try Decoy()
        let before = try decoy.fingerprint()
        let daemon = try startIdleRun(sandbox)
        XCTAssertEqual(link(decoy.path + "/precious.json", sandbox.path("\(outbox)/p1_batch_2.json")), 0)
        let r = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: daemon, "refusal") {
            $0.event == "file.rejected" && ($0["path"]?.string ?? "").hasSuffix("/p1_batch_2.json")
        }
        XCTAssertTrue(r.reason?.contains("hard links") ?? false, r.line)
        // The move aside follows the file.rejected record: wait for its file.archived.
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: daemon, "p1/2 moved to rejected/") {
            $0.event == "file.archived" && $0.batch == 2 && $0.reason == "rejected"
        }
        XCTAssertFalse(sandbox.exists("\(outbox)/p1_batch_2.json"))
        try assertStillMerges(sandbox, daemon, batch: 3)
        XCTAssertFalse(try sandbox.read("out/p1.json").contains("\"i2\""), "not merged")
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        XCTAssertEqual(try decoy.fingerprint(), before, "same names, inodes and bytes (a name in rejected/ links to it)")
    }

    /// `outbox/` replaced by a symbolic link to a folder outside: refused with `folder.refused`
    /// naming it; a batch file there is neither read, merged nor moved.
    func testSymlinkedOutboxIsRefusedNeverFollowed() throws {
        let sandbox = try makeSandbox()
        let decoy = try Decoy()
        try FileSystem.rename(decoy.path + "/precious.json", decoy.path + "/p1_batch_2.json")
        let before = try decoy.fingerprint()
        let daemon = try startIdleRun(sandbox)
        try FileSystem.rename(sandbox.path(outbox), sandbox.path("mailbox/d/outbox.real"))
        XCTAssertEqual(symlink(decoy.path, sandbox.path(outbox)), 0)
        let r = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: daemon, "folder.refused") {
            $0.event == "folder.refused"
        }
        XCTAssertEqual(r["path"]?.string, sandbox.path(outbox), r.line)
        // Put the real folder back: the daemon goes on, and what was outside stayed there.
        XCTAssertEqual(unlink(sandbox.path(outbox)), 0)
        try FileSystem.rename(sandbox.path("mailbox/d/outbox.real"), sandbox.path(outbox))
        try assertStillMerges(sandbox, daemon, batch: 4)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        XCTAssertEqual(try decoy.fingerprint(), before)
        XCTAssertFalse(try sandbox.read("out/p1.json").contains("\"i2\""))
    }

    /// `rejected/` replaced by a symbolic link: a file to reject stays where it is, with a
    /// `folder.refused` record; nothing is written outside.
    func testSymlinkedRejectedFolderIsNeverWrittenThrough() throws {
        let sandbox = try makeSandbox()
        let decoy = try Decoy()
        let before = try decoy.fingerprint()
        let daemon = try startIdleRun(sandbox)
        try FileSystem.rename(sandbox.path(rejected), sandbox.path("mailbox/d/rejected.real"))
        XCTAssertEqual(symlink(decoy.path, sandbox.path(rejected)), 0)
        try sandbox.publish("\(outbox)/junk.json", "{}", staging: "\(outbox)/tmp")
        let r = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: daemon, "folder.refused") {
            $0.event == "folder.refused" && $0["path"]?.string == sandbox.path(rejected)
        }
        XCTAssertTrue(r.reason?.contains("symbolic link") ?? false, r.line)
        XCTAssertTrue(sandbox.exists("\(outbox)/junk.json"), "left in place, not lost")
        XCTAssertEqual(try decoy.fingerprint(), before)
        try assertStillMerges(sandbox, daemon, batch: 5)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        XCTAssertEqual(try decoy.fingerprint(), before)
    }

    /// Links planted where the next attempt's prompt and log go: the prompt replaces the link
    /// (its target untouched), the log's link is moved aside with a record, and a look-alike
    /// of the daemon's temps survives the start-up sweep.
    func testPlantedPromptAndLogLinksAndTempLookalikesAreLeftAlone() throws {
        let sandbox = try makeSandbox()
        let decoy = try Decoy()
        let before = try decoy.fingerprint()
        try sandbox.write("logs/agents/d/keep", "")
        XCTAssertEqual(symlink(decoy.path + "/precious.json", sandbox.path("logs/agents/d/p1-1-1.prompt.md")), 0)
        XCTAssertEqual(symlink(decoy.path + "/precious.json", sandbox.path("logs/agents/d/p1-1-1.log")), 0)
        try sandbox.write("\(rejected)/.mine.json.tmp-12-3", "user's\n")
        try sandbox.write("\(rejected)/.aw-0123456789abcdef-1-1.tmp", "user's too\n")
        let daemon = try startIdleRun(sandbox)
        let moved = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: daemon, "log link moved") {
            $0.event == "file.rejected" && ($0["from"]?.string ?? "").hasSuffix("/p1-1-1.log")
        }
        XCTAssertEqual(sandbox.kind("logs/agents/d/refused/p1-1-1.log"), .symlink, moved.line)
        XCTAssertEqual(sandbox.kind("logs/agents/d/p1-1-1.prompt.md"), .regular, "the prompt replaced the link")
        XCTAssertEqual(sandbox.kind("logs/agents/d/p1-1-1.log"), .regular)
        try assertStillMerges(sandbox, daemon, batch: 1)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let again = try restart(sandbox)
        try assertStillMerges(sandbox, again, batch: 2)
        XCTAssertEqual(try again.stop(), .exited(0), again.stderr)
        XCTAssertEqual(try sandbox.read("\(rejected)/.mine.json.tmp-12-3"), "user's\n")
        XCTAssertEqual(try sandbox.read("\(rejected)/.aw-0123456789abcdef-1-1.tmp"), "user's too\n")
        XCTAssertEqual(try decoy.fingerprint(), before)
    }

    // MARK: - Startup

    /// `run --daemon` succeeds only once the daemon is watching after recovery and the first
    /// scan (`watcher.ready`): a daemon that dies during its start (here right after spawning
    /// the first agent, past `watcher.started`) makes it fail, print why, and print no pid.
    func testRunDaemonFailsWhenTheStartDoesNotFinish() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 2, agentBody: "exit 0")
        var env = SpawnRequest.currentEnvironment()
        env["AGENT_WATCHER_FAULT"] = "spawned:1"
        let child = try ChildProcess(argv: [AgentWatcherBinary.path, "run", "--daemon", "--pipeline", specPath, "--root", sandbox.root],
                                     outputBase: sandbox.path("e2e/faulty"), workingDirectory: sandbox.root, environment: env)
        XCTAssertEqual(try child.finish(within: 60), .exited(1), child.stderr)
        XCTAssertEqual(child.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "", "no pid is printed")
        XCTAssertTrue(child.stderr.contains("before it was watching"), child.stderr)
        let records = try EventLog.read(sandbox.eventLog)
        XCTAssertTrue(records.contains { $0.event == "watcher.started" }, "it got past watcher.started")
        XCTAssertFalse(records.contains { $0.event == "watcher.ready" })
        // A start that works prints the pid after watcher.ready.
        let ok = try sandbox.run(["run", "--daemon", "--pipeline", specPath, "--root", sandbox.root], within: 60)
        XCTAssertEqual(ok.exitCode, 0, ok.stderr)
        let pid = try XCTUnwrap(Int32(ok.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), ok.stdout)
        XCTAssertTrue(try EventLog.read(sandbox.eventLog).contains { $0.event == "watcher.ready" && $0["pid"]?.int == Int(pid) })
        let stop = try sandbox.run(["stop", "--root", sandbox.root], within: 60)
        XCTAssertEqual(stop.exitCode, 0, stop.stderr)
    }

    // MARK: - Main files

    /// A main file emptied by hand is not rebuilt from the template and the batch is not
    /// blamed: the run pauses with `main_file_changed`, no attempt used, the batch file stays;
    /// once the file is restored, `resume` merges the batch into it.
    func testAChangedMainFilePausesTheRunAndIsNeverRebuilt() throws {
        let sandbox = try makeSandbox()
        let daemon = try startIdleRun(sandbox)
        try assertStillMerges(sandbox, daemon, batch: 1)
        let good = try sandbox.read("out/p1.json")
        try sandbox.write("out/p1.json", "")
        try sandbox.publish("\(outbox)/p1_batch_2.json", batchText(2), staging: "\(outbox)/tmp")
        let paused = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(10), daemon: daemon, "run.paused") {
            $0.event == "run.paused" && $0.reason == "main_file_changed"
        }
        XCTAssertTrue(paused["message"]?.string?.contains("shrank") ?? false, paused.line)
        let failed = try XCTUnwrap(try EventLog.read(sandbox.eventLog).last { $0.isTransition(phase: "p1", batch: 2, to: "retry_wait") })
        XCTAssertEqual(failed.reason, "main_file_changed", failed.line)
        XCTAssertEqual(failed["attempt_used"], .bool(false), failed.line)
        XCTAssertEqual(try sandbox.read("out/p1.json"), "", "not rebuilt from the template")
        XCTAssertTrue(sandbox.exists("\(outbox)/p1_batch_2.json"), "the batch file is kept")
        try sandbox.write("out/p1.json", good)
        let resume = try sandbox.run(["resume", "d", "--root", sandbox.root])
        XCTAssertEqual(resume.exitCode, 0, resume.stderr)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "p1/2 merged") {
            $0.isTransition(phase: "p1", batch: 2, to: "merged")
        }
        let items = try containerItems(sandbox.read("out/p1.json"), key: "results", idField: nil).map(\.id)
        XCTAssertEqual(items, ["i1", "i2"], "the earlier items are still there")
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }

    // MARK: - One daemon per root

    /// `rm -rf logs/` under a running daemon is noticed at once: it says so on stderr and stops
    /// (non-zero), its agents stopped; the next daemon starts on a fresh log, and while the
    /// first one lived the root's own lock kept a second one out.
    func testRemovingTheLogsFolderStopsTheDaemon() throws {
        let sandbox = try makeSandbox()
        let daemon = try startIdleRun(sandbox)
        let second = try sandbox.run(["run", "--pipeline", sandbox.path("d.json"), "--root", sandbox.root], within: 30)
        XCTAssertEqual(second.exitCode, 1)
        XCTAssertTrue(second.stderr.contains("already running"), second.stderr)
        try FileSystem.removeTree(sandbox.path("logs"))
        XCTAssertEqual(try daemon.finish(within: 10), .exited(1), daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("was removed"), daemon.stderr)
        let again = try sandbox.start(["run", "--pipeline", sandbox.path("d.json"), "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: again, "watcher.ready") {
            $0.event == "watcher.ready" && $0["pid"]?.int == Int(again.pid)
        }
        XCTAssertEqual(try again.stop(), .exited(0), again.stderr)
    }

    // MARK: - Only its own processes

    /// A process that merely carries `AGENT_WATCHER_ROOT=<root>` (an operator's shell with it
    /// exported) is left alone at every start; an agent's descendant that calls `setsid` is
    /// still stopped with its attempt; agents start with no signal ignored or blocked.
    func testStrangersAreLeftAloneAndSetsidDescendantsAreStopped() throws {
        let sandbox = try makeSandbox()
        var env = SpawnRequest.currentEnvironment()
        env["AGENT_WATCHER_ROOT"] = sandbox.root
        let stranger = try Spawner.spawn(SpawnRequest(argv: ["/bin/sleep", "120"], environment: env, outputPath: "/dev/null"))
        let strangerFD = try ProcessControl.openPIDFD(stranger)
        defer { _ = try? ProcessControl.signal(stranger, SIGKILL); _ = try? ProcessControl.waitBlocking(stranger) } // cleanup
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1, "killGraceSeconds": 0.2])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 1, agentBody: """
        grep -E '^Sig(Ign|Blk):' /proc/self/status > signals-$batch
        setsid sleep 300 &
        echo $! > stray-$batch
        exit 0
        """)
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "d")
        }
        let stray = try XCTUnwrap(pid_t(try sandbox.read("stray-1").trimmingCharacters(in: .whitespacesAndNewlines)))
        do {
            let strayFD = try ProcessControl.openPIDFD(stray)
            XCTAssertEqual(try Poller.wait([strayFD.rawValue], timeoutMilliseconds: 10_000), [strayFD.rawValue],
                           "the setsid descendant \(stray) outlived its attempt")
        } catch Errno.noSuchProcess {
            // Already stopped and reaped.
        }
        let signals = try sandbox.read("signals-1")
        XCTAssertTrue(signals.contains("SigIgn:\t0000000000000000"), signals)
        XCTAssertTrue(signals.contains("SigBlk:\t0000000000000000"), signals)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let again = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: again, "watcher.ready") {
            $0.event == "watcher.ready" && $0["pid"]?.int == Int(again.pid)
        }
        XCTAssertEqual(try again.stop(), .exited(0), again.stderr)
        XCTAssertEqual(try Poller.wait([strangerFD.rawValue], timeoutMilliseconds: 0), [], "the stranger still runs")
        XCTAssertTrue(ProcessControl.isAlive(stranger))
        XCTAssertTrue(again.stderr.contains("left alone"), again.stderr)
    }

    // MARK: - Kernel limits

    /// Inside a private user namespace (`unshare -U -r`) with `user.max_inotify_watches` lowered
    /// (never the machine's limit), folders past the limit are a `watch.failed` record naming
    /// the limit, its value and how to raise it; the daemon goes on (folders it cannot watch are
    /// scanned on a timer), and a tree deeper than the documented depth is refused the same way.
    func testAWatchLimitIsARecordAndTheRestGoesOn() throws {
        guard let unshare = ["/usr/bin/unshare", "/bin/unshare"].first(where: { FileSystem.isExecutableFile($0) }) else {
            throw XCTSkip("unshare is not installed: the watch limit is only lowered inside a private user namespace")
        }
        let probe = try ChildProcess(argv: [unshare, "-U", "-r", "/bin/sh", "-c", "echo 5 > /proc/sys/user/max_inotify_watches"],
                                     outputBase: "/tmp/aw-unshare-probe-\(getpid())")
        guard try probe.finish(within: 10) == .exited(0) else {
            throw XCTSkip("unshare -U -r cannot set user.max_inotify_watches here: \(probe.stderr)")
        }
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 6, agentBody: "exit 0")
        for i in 1...40 { try FileSystem.createDirectory(sandbox.path("mailbox/zz-extra/f\(i)")) }
        try FileSystem.createDirectory(sandbox.path("mailbox/deep/" + (1...20).map(String.init).joined(separator: "/")))
        var env = SpawnRequest.currentEnvironment()
        env["AGENT_WATCHER_UNWATCHED_SCAN_SECONDS"] = "1"
        let daemon = try ChildProcess(
            argv: [unshare, "-U", "-r", "/bin/sh", "-c", "echo 30 > /proc/sys/user/max_inotify_watches && exec \"$@\"", "sh",
                   AgentWatcherBinary.path, "run", "--pipeline", specPath, "--root", sandbox.root],
            outputBase: sandbox.path("e2e/limited"), workingDirectory: sandbox.root, environment: env)
        defer { if daemon.status == nil { _ = try? daemon.stop(within: 10) } } // cleanup after a failure only
        let failed = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "watch.failed (limit)") {
            $0.event == "watch.failed" && ($0.reason ?? "").contains("max_user_watches")
        }
        XCTAssertTrue(failed.reason?.contains("sysctl fs.inotify.max_user_watches=") ?? false, failed.line)
        XCTAssertTrue(failed.reason?.contains("= 30") ?? false, "the value of the lowered limit: \(failed.line)")
        let deep = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "watch.failed (depth)") {
            $0.event == "watch.failed" && $0["errno"]?.string == "depth"
        }
        XCTAssertTrue(deep.reason?.contains("16") ?? false, deep.line)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "d")
        }
        try assertStillMerges(sandbox, daemon, batch: 2)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }
}
