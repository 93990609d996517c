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

    /// The path of `unshare`, once `unshare PROBE...` worked here; the test is skipped otherwise.
    func unshareOrSkip(probe: [String], for why: String) throws -> String {
        guard let unshare = ["/usr/bin/unshare", "/bin/unshare"].first(where: { FileSystem.isExecutableFile($0) }) else {
            throw XCTSkip("unshare is not installed: \(why)")
        }
        let child = try ChildProcess(argv: [unshare] + probe, outputBase: "/tmp/aw-unshare-probe-\(getpid())")
        guard try child.finish(within: 30) == .exited(0) else {
            throw XCTSkip("unshare \(probe.joined(separator: " ")) does not work here (\(why)): \(child.stderr)")
        }
        return unshare
    }

    func batchText(_ k: Int) -> String { "{\"results\": {\"i\(k)\": \(Fixtures.item(k))}}\n" }

    /// A later batch still merges: the daemon answers.
    func assertStillMerges(_ sandbox: Sandbox, _ daemon: ChildProcess, batch k: Int,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        try sandbox.publish("\(outbox)/p1_batch_\(k).json", batchText(k), staging: "\(outbox)/tmp")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "p1/\(k) merged") {
            $0.isTransition(phase: "p1", batch: k, to: "merged")
        }
        XCTAssertTrue(try sandbox.read("out/p1.json").contains("\"i\(k)\""), file: file, line: line)
    }

    func rejection(_ sandbox: Sandbox, _ daemon: ChildProcess, from suffix: String) throws -> LogRecord {
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "file.rejected of \(suffix)") {
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
        let r = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "file.rejected (not UTF-8)") {
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
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: again, "file.rejected at start") {
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
        let r = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "refusal") {
            $0.event == "file.rejected" && ($0["path"]?.string ?? "").hasSuffix("/p1_batch_2.json")
        }
        XCTAssertTrue(r.reason?.contains("hard links") ?? false, r.line)
        // The refusal is logged by the validation; the move to rejected/ follows it (file.archived).
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "the refused file archived") {
            $0.event == "file.archived" && $0["from"]?.string == sandbox.path("\(outbox)/p1_batch_2.json")
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
        let r = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "folder.refused") {
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
        let r = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "folder.refused") {
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
        let moved = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "log link moved") {
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

    /// What someone planted where an attempt's log or prompt goes: a FIFO nobody reads (an open
    /// for writing would block, or fail), a folder, a symbolic link to a file outside. Each is
    /// moved aside into `refused/` with a record, never followed and never waited on, and the
    /// attempt runs with a fresh log and prompt.
    func testPlantedFIFOsFoldersAndLinksAtTheLogAreMovedAsideAndTheAttemptRuns() throws {
        let sandbox = try makeSandbox()
        let decoy = try Decoy()
        let before = try decoy.fingerprint()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: """
        echo "agent $batch ran"
        object_batch $start $end | publish "$out"
        """)
        try FileSystem.createDirectory(sandbox.path("logs/agents/d"))
        XCTAssertEqual(mkfifo(sandbox.path("logs/agents/d/p1-1-1.log"), 0o644), 0)
        try FileSystem.createDirectory(sandbox.path("logs/agents/d/p1-2-1.log/inside"))
        XCTAssertEqual(symlink(decoy.path + "/precious.json", sandbox.path("logs/agents/d/p1-3-1.log")), 0)
        try FileSystem.createDirectory(sandbox.path("logs/agents/d/p1-4-1.prompt.md"))
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        let done = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "d")
        }
        XCTAssertEqual(done["merged"]?.int, 4, done.line)
        let records = try EventLog.read(sandbox.eventLog).filter { $0.event == "file.rejected" }
        for (name, kind) in [("p1-1-1.log", FileKind.fifo), ("p1-2-1.log", .directory), ("p1-3-1.log", .symlink),
                             ("p1-4-1.prompt.md", .directory)] {
            XCTAssertTrue(records.contains { ($0["from"]?.string ?? "").hasSuffix("/" + name) }, "a record for \(name)")
            XCTAssertEqual(sandbox.kind("logs/agents/d/refused/\(name)"), kind, name)
            XCTAssertTrue(sandbox.exists("logs/agents/d/refused/\(name).error"), name)
        }
        for k in 1...3 { XCTAssertEqual(try sandbox.read("logs/agents/d/p1-\(k)-1.log"), "agent \(k) ran\n") }
        XCTAssertEqual(sandbox.kind("logs/agents/d/p1-4-1.prompt.md"), .regular)
        XCTAssertTrue(sandbox.exists("logs/agents/d/refused/p1-2-1.log/inside"), "moved whole")
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        XCTAssertEqual(try decoy.fingerprint(), before)
    }

    /// The start-up sweep of a previous life's temps covers every folder the daemon makes
    /// temps in: besides each run's archives, `agents/<name>/rejected/`, `logs/agents/<run>/refused/`
    /// and the `rejected/` of a run no spec defines. Only temps carrying a tag a previous life
    /// logged go; a look-alike with another tag stays.
    func testTheTempSweepCoversEveryFolderTheDaemonWritesTempsIn() throws {
        let sandbox = try makeSandbox()
        let daemon = try startIdleRun(sandbox, items: 1)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let tag = try XCTUnwrap(try EventLog.read(sandbox.eventLog).last { $0.event == "watcher.started" }?["temp_tag"]?.string)
        let ours = ["mailbox/agents/bob/rejected/.m.json.error.tmp-\(tag)-12-3", "logs/agents/d/refused/.p1-1-1.log.error.tmp-\(tag)-12-4",
                    "mailbox/zz/rejected/.x.json.error.tmp-\(tag)-12-5", "mailbox/d/rejected/.y.json.errors.json.tmp-\(tag)-12-6",
                    "mailbox/r\u{1}un/rejected/.z.json.error.tmp-\(tag)-12-7"]
        let lookalike = "mailbox/agents/bob/rejected/.m.json.error.tmp-0123456789abcdef-12-3"
        for path in ours + [lookalike] { try sandbox.write(path, "half\n") }
        let again = try restart(sandbox)
        let recovered = try XCTUnwrap(try EventLog.read(sandbox.eventLog).last { $0.event == "watcher.recovered" })
        XCTAssertEqual(recovered["stale_temps"], .array(ours.map { .string(sandbox.path($0)) }.sorted { $0.description < $1.description }),
                       recovered.line)
        for path in ours { XCTAssertFalse(sandbox.exists(path), path) }
        XCTAssertEqual(try sandbox.read(lookalike), "half\n", "not the daemon's: kept")
        XCTAssertEqual(try again.stop(), .exited(0), again.stderr)
    }

    /// The folders handled messages move into, replaced by symbolic links to a folder outside:
    /// `control/cur/` (the daemon died of it: `watcher.failed ... Not a directory`) and an agent's
    /// `new/`. Each is refused with a record, nothing is moved through it, and the daemon goes on.
    func testSymlinkedMessageFoldersAreRefusedAndTheDaemonGoesOn() throws {
        let sandbox = try makeSandbox()
        let decoy = try Decoy()
        let before = try decoy.fingerprint()
        let daemon = try startIdleRun(sandbox)
        try FileSystem.createDirectory(sandbox.path("mailbox/control/new"))
        if sandbox.exists("mailbox/control/cur") { try FileSystem.rename(sandbox.path("mailbox/control/cur"), sandbox.path("mailbox/control/cur.real")) }
        XCTAssertEqual(symlink(decoy.path, sandbox.path("mailbox/control/cur")), 0)
        let pause = try sandbox.run(["pause", "d", "--root", sandbox.root])
        XCTAssertEqual(pause.exitCode, 0, pause.stderr)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "folder.refused (control/cur)") {
            $0.event == "folder.refused" && $0["path"]?.string == sandbox.path("mailbox/control/cur")
        }
        try FileSystem.createDirectory(sandbox.path("mailbox/agents/bob"))
        XCTAssertEqual(symlink(decoy.path, sandbox.path("mailbox/agents/bob/new")), 0)
        try sandbox.write("mailbox/agents/bob/m1.json", #"{"id":"m1","from":"alice","to":"bob","type":"request","body":{}}"#)
        // Refused as a folder, or (seen first as an entry of agents/bob/) moved aside as a link.
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "agents/bob/new refused") {
            ($0.event == "folder.refused" && $0["path"]?.string == sandbox.path("mailbox/agents/bob/new"))
                || ($0.event == "file.rejected" && $0["from"]?.string == sandbox.path("mailbox/agents/bob/new"))
        }
        XCTAssertNotEqual(sandbox.kind("mailbox/agents/bob/new"), .symlink)
        let resume = try sandbox.run(["resume", "d", "--root", sandbox.root])
        XCTAssertEqual(resume.exitCode, 0, resume.stderr)
        try assertStillMerges(sandbox, daemon, batch: 2)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        XCTAssertEqual(try decoy.fingerprint(), before)
    }

    /// Symbolic links planted where the daemon's own folders go (`logs/agents/<run>/`,
    /// `logs/validators/<run>/`, `mailbox/control/cur/`): at a start they stopped it
    /// (`openat2(...): Not a directory`); now each is moved aside into `logs/refused/` with a
    /// record, never followed, and the folder made. Planted while it runs, before an agent
    /// starts, the same: the agent runs.
    func testLinksPlantedAtTheDaemonsOwnFoldersAreMovedAside() throws {
        let sandbox = try makeSandbox()
        let decoy = try Decoy()
        let before = try decoy.fingerprint()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1, "concurrency": 1])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 2, agentBody: """
        if [ "$batch" = 1 ]; then wait_for go; fi
        object_batch $start $end | publish "$out"
        """)
        for folder in ["logs/agents", "logs/validators", "mailbox/control"] { try FileSystem.createDirectory(sandbox.path(folder)) }
        for link in ["logs/agents/d", "logs/validators/d", "mailbox/control/cur"] {
            XCTAssertEqual(symlink(decoy.path, sandbox.path(link)), 0)
        }
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "p1/1 running") {
            $0.isTransition(phase: "p1", batch: 1, to: "running")
        }
        let moved = try EventLog.read(sandbox.eventLog).filter { $0.event == "file.rejected" }
        for link in ["logs/agents/d", "logs/validators/d", "mailbox/control/cur"] {
            XCTAssertTrue(moved.contains { $0["from"]?.string == sandbox.path(link) }, "a record for \(link)")
            XCTAssertEqual(sandbox.kind(link), .directory, link)
        }
        XCTAssertEqual(sandbox.kind("logs/refused/d"), .symlink)
        // While it runs: the agents' log folder replaced by a link before batch 2's agent starts.
        try FileSystem.rename(sandbox.path("logs/agents/d"), sandbox.path("logs/agents/d.real"))
        XCTAssertEqual(symlink(decoy.path, sandbox.path("logs/agents/d")), 0)
        try sandbox.write("go", "")
        let done = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "d")
        }
        XCTAssertEqual(done["merged"]?.int, 2, done.line)
        XCTAssertEqual(sandbox.kind("logs/agents/d"), .directory)
        XCTAssertEqual(sandbox.kind("logs/refused/d.2"), .symlink)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        XCTAssertEqual(try decoy.fingerprint(), before)
    }

    /// A folder planted where a validator's output goes paused the run ("could not start:
    /// unlinkat: Is a directory"): it is moved aside with a record and the validator runs.
    func testAFolderAtAValidatorsOutputIsMovedAside() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json", extra: [
            "validators": [["argv": ["/bin/sh", "-c", "exit 0", "sh", "{batch_file}"]]],
        ])], overrides: ["maxAttempts": 1])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 1, agentBody: """
        mkdir -p logs/validators/d/p1-1-1-1.out/inside
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        let done = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "d")
        }
        XCTAssertEqual(done["merged"]?.int, 1, done.line)
        let records = try EventLog.read(sandbox.eventLog)
        XCTAssertFalse(records.contains { $0.event == "run.paused" }, "no pause")
        XCTAssertTrue(records.contains { $0.event == "file.rejected" && $0["from"]?.string == sandbox.path("logs/validators/d/p1-1-1-1.out") })
        XCTAssertEqual(sandbox.kind("logs/agents/d/refused/p1-1-1-1.out"), .directory)
        XCTAssertEqual(sandbox.kind("logs/validators/d/p1-1-1-1.out"), .regular)
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }

    /// A FIFO planted at a failed attempt's `.errors.json` in `rejected/`: after a restart the
    /// retry's prompt is built from that file, and opening it hung the daemon. It is refused as a
    /// dropped file would be (said on stderr) and the retry runs.
    func testAFIFOAtAKeptErrorsReportDoesNotHangTheRetry() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 1, agentBody: """
        if [ "$attempt" = 1 ]; then echo '{' | publish "$out"; exit 0; fi
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        let archived = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "attempt 1 rejected") {
            $0.event == "file.archived" && $0.reason == "rejected"
        }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let errors = String(try XCTUnwrap(archived["path"]?.string).dropLast(".json".count)) + ".errors.json"
        XCTAssertTrue(FileSystem.exists(errors), errors)
        try FileSystem.unlink(errors)
        XCTAssertEqual(mkfifo(errors, 0o644), 0)
        let again = try restart(sandbox)
        let retry = try sandbox.run(["retry", "d", "p1", "1", "--root", sandbox.root])
        XCTAssertEqual(retry.exitCode, 0, retry.stderr)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: again, "p1/1 merged") {
            $0.isTransition(phase: "p1", batch: 1, to: "merged")
        }
        XCTAssertEqual(try again.stop(), .exited(0), again.stderr)
        XCTAssertTrue(again.stderr.contains("the previous attempt's errors are not read"), again.stderr)
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
        let paused = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.paused") {
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

    /// `retry RUN PHASE --rebuild`: a main file emptied by hand pauses the run with a record that
    /// names this way on; the rebuild re-merges the accepted batch files, in batch order, into a
    /// new main file equal to what the old one held, keeps the emptied one aside (logged), and
    /// the waiting batch and the run go on.
    func testRetryRebuildRemergesTheAcceptedBatchFiles() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 3, agentBody: """
        if [ "$batch" = 3 ]; then wait_for go; fi
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        for k in 1...2 {
            try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "p1/\(k) merged") {
                $0.isTransition(phase: "p1", batch: k, to: "merged")
            }
        }
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "p1/2 accepted") {
            $0.event == "file.archived" && $0.batch == 2 && $0.reason == "accepted"
        }
        let good = try sandbox.read("out/p1.json")
        try sandbox.write("out/p1.json", "")
        try sandbox.write("go", "")
        let paused = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.paused") {
            $0.event == "run.paused" && $0.reason == "main_file_changed"
        }
        XCTAssertTrue(paused["message"]?.string?.contains("agent-watcher retry d p1 --rebuild") ?? false, paused.line)

        let usage = try sandbox.run(["retry", "d", "p1", "2", "--rebuild", "--root", sandbox.root])
        XCTAssertEqual(usage.exitCode, 64, usage.stderr)
        let retry = try sandbox.run(["retry", "d", "p1", "--rebuild", "--root", sandbox.root])
        XCTAssertEqual(retry.exitCode, 0, retry.stderr)
        XCTAssertTrue(retry.stdout.contains("rebuilt from 2 accepted batch files"), retry.stdout)
        let records = try EventLog.read(sandbox.eventLog)
        let rebuilt = try XCTUnwrap(records.last { $0.event == "main.rebuilt" })
        XCTAssertEqual(rebuilt["kept"]?.string, sandbox.path("out/p1.json.before-rebuild"), rebuilt.line)
        XCTAssertEqual(rebuilt["batches"], .array([.string("p1/1"), .string("p1/2")]), rebuilt.line)
        // The rebuild's own write: the first after it (batch 3 may merge right after and write again).
        let written = try XCTUnwrap(records.first { $0.event == "main.written" && $0.seq > rebuilt.seq })
        XCTAssertEqual(written["size"]?.int, good.utf8.count, "the new main file holds what the old one did: \(written.line)")
        XCTAssertEqual(written["crc32"]?.string, CRC32.hex(CRC32.checksum(Array(good.utf8))), written.line)
        XCTAssertEqual(try sandbox.read("out/p1.json.before-rebuild"), "", "the emptied file is kept aside")

        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "d")
        }
        let items = try containerItems(sandbox.read("out/p1.json"), key: "results", idField: nil).map(\.id)
        XCTAssertEqual(items, ["i1", "i2", "i3"])
        let attempts = try EventLog.read(sandbox.eventLog).filter { $0.isTransition(phase: "p1", batch: 3, to: "spawning") }
        XCTAssertEqual(attempts.count, 1, "the waiting batch's file was checked again, no new agent")
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }

    /// FIFOs planted where the daemon reads: at the main file (a merge read it and hung forever)
    /// and at an agent's log by the agent itself before it fails (the log's tail is read to tell
    /// a transient failure). Never opened to wait on: the main file's phase pauses with
    /// `main_file_changed` naming it, `retry --rebuild` keeps it aside; the failed attempt is
    /// judged without its log.
    func testFIFOsAtTheMainFileOrAnAgentLogNeverHangTheDaemon() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 3, agentBody: """
        if [ "$batch" = 3 ]; then rm -f logs/agents/d/p1-3-1.log && mkfifo logs/agents/d/p1-3-1.log; exit 3; fi
        if [ "$batch" = 2 ]; then wait_for go; fi
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "p1/1 merged") {
            $0.isTransition(phase: "p1", batch: 1, to: "merged")
        }
        let failed = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "p1/3 failed") {
            $0.isTransition(phase: "p1", batch: 3, to: "failed")
        }
        XCTAssertEqual(failed.reason, "agent_crashed", failed.line)
        let good = try sandbox.read("out/p1.json")
        try FileSystem.unlink(sandbox.path("out/p1.json"))
        XCTAssertEqual(mkfifo(sandbox.path("out/p1.json"), 0o644), 0)
        try sandbox.write("go", "")
        let paused = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.paused") {
            $0.event == "run.paused" && $0.reason == "main_file_changed"
        }
        XCTAssertTrue(paused["message"]?.string?.contains("is a fifo") ?? false, paused.line)
        let retry = try sandbox.run(["retry", "d", "p1", "--rebuild", "--root", sandbox.root])
        XCTAssertEqual(retry.exitCode, 0, retry.stderr)
        XCTAssertEqual(sandbox.kind("out/p1.json.before-rebuild"), .fifo, "kept aside")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "p1/2 merged") {
            $0.isTransition(phase: "p1", batch: 2, to: "merged")
        }
        let items = try containerItems(sandbox.read("out/p1.json"), key: "results", idField: nil).map(\.id)
        XCTAssertEqual(items, ["i1", "i2"])
        XCTAssertTrue(try sandbox.read("out/p1.json").hasPrefix(String(good.prefix(10))))
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
        XCTAssertEqual(try daemon.finish(within: 30), .exited(1), daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("was removed"), daemon.stderr)
        let again = try sandbox.start(["run", "--pipeline", sandbox.path("d.json"), "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: again, "watcher.ready") {
            $0.event == "watcher.ready" && $0["pid"]?.int == Int(again.pid)
        }
        XCTAssertEqual(try again.stop(), .exited(0), again.stderr)
    }

    /// What is planted at the daemon's own files under `logs/` before a start. At the event log
    /// a symbolic link to a file outside (the daemon appended its whole log to that file), a hard
    /// link to one (its "torn tail" would have been cut off), a FIFO (the start hung): never read,
    /// cut or written; the start stops with exit 1 and says what to do, and `status` does not hang.
    /// A folder at the pid file (the start failed) and a link at the lock file (its target was
    /// emptied) are moved aside and the start goes on.
    func testWhatIsPlantedAtTheLogOrThePidFileIsNeverWrittenThrough() throws {
        let sandbox = try makeSandbox()
        let decoy = try Decoy()
        let before = try decoy.fingerprint()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 1, agentBody: "object_batch $start $end | publish \"$out\"")
        let log = sandbox.eventLog
        let plants: [(String, () -> Int32)] = [
            ("symlink", { symlink(decoy.path + "/precious.json", log) }),
            ("file with 2 hard links", { link(decoy.path + "/precious.json", log) }),
            ("fifo", { mkfifo(log, 0o644) }),
        ]
        for (what, plant) in plants {
            XCTAssertEqual(plant(), 0, what)
            let start = try sandbox.run(["run", "--pipeline", specPath, "--root", sandbox.root, "--until-done"], within: 30)
            XCTAssertEqual(start.exitCode, 1, what + ": " + start.stderr)
            XCTAssertTrue(start.stderr.contains("is a \(what), not"), start.stderr)
            XCTAssertNotNil(try sandbox.run(["status", "--root", sandbox.root], within: 30).status, "status ends")
            XCTAssertEqual(unlink(log), 0)
        }
        if sandbox.exists("logs/watcher.pid") { try FileSystem.unlink(sandbox.path("logs/watcher.pid")) } // the failed starts'
        try FileSystem.createDirectory(sandbox.path("logs/watcher.pid/inside"))
        // The lock file: a symbolic link to a file outside (the lock emptied it and wrote its pid in).
        if sandbox.exists("logs/watcher.lock") { try FileSystem.unlink(sandbox.path("logs/watcher.lock")) }
        XCTAssertEqual(symlink(decoy.path + "/precious.json", sandbox.path("logs/watcher.lock")), 0)
        let run = try sandbox.run(["run", "--pipeline", specPath, "--root", sandbox.root, "--until-done"], within: 30)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertEqual(sandbox.kind("logs/refused/watcher.pid"), .directory)
        XCTAssertEqual(sandbox.kind("logs/refused/watcher.lock"), .symlink)
        for name in ["watcher.pid", "watcher.lock"] {
            XCTAssertTrue(try EventLog.read(log).contains { $0.event == "file.rejected" && $0["from"]?.string == sandbox.path("logs/" + name) }, name)
        }
        XCTAssertEqual(try decoy.fingerprint(), before)
    }

    /// A symbolic link planted at `logs/dashboard.token` (the dashboard emptied its target and
    /// wrote its token into it) or a FIFO there (`tail` and the dashboard read the log the same
    /// way): refused with a message, nothing written through; `tail` never waits on a FIFO log.
    func testTheDashboardTokenAndTailNeverWriteThroughOrWait() throws {
        let sandbox = try makeSandbox()
        let decoy = try Decoy()
        let before = try decoy.fingerprint()
        XCTAssertEqual(symlink(decoy.path + "/precious.json", sandbox.path("logs/dashboard.token")), 0)
        let dashboard = try sandbox.run(["dashboard", "--root", sandbox.root, "--listen", "127.0.0.1:0"], within: 30)
        XCTAssertNotEqual(dashboard.exitCode, 0, dashboard.stdout)
        XCTAssertEqual(try decoy.fingerprint(), before, "the token was not written through the link")
        XCTAssertEqual(mkfifo(sandbox.eventLog, 0o644), 0)
        let tail = try sandbox.run(["tail", "--root", sandbox.root], within: 30)
        XCTAssertNotEqual(tail.exitCode, 0)
        XCTAssertTrue(tail.stderr.contains("is a fifo, not a regular file"), tail.stderr)
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
            XCTAssertEqual(try Poller.wait([strayFD.rawValue], timeoutMilliseconds: 30_000), [strayFD.rawValue],
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

    /// An agent the log names is known by its pid and the start time its `running` record
    /// holds (field 22 of `/proc/<pid>/stat`), not only by its environment: one that cleared its
    /// environment (`exec env -i`) is still stopped when a daemon starts after a crash.
    func testAnAgentThatClearedItsEnvironmentIsKnownByItsStartTime() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 2])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 1, agentBody: """
        if [ "$attempt" = 1 ]; then exec env -i /bin/sleep 300; fi
        object_batch $start $end | publish "$out"
        """)
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        let running = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "p1/1 running") {
            $0.isTransition(phase: "p1", batch: 1, to: "running")
        }
        let pid = try XCTUnwrap(running.pid, running.line)
        XCTAssertEqual(running["start_time"]?.int.map(UInt64.init), ProcessControl.startTime(of: pid), running.line)
        let agent = try ProcessControl.openPIDFD(pid)
        try daemon.signal(SIGKILL)
        _ = try daemon.finish(within: 30)
        XCTAssertEqual(ProcessControl.environment(of: pid)?[AgentToken.variable], nil, "the agent carries no token now")
        let again = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        let recovered = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: again, "watcher.recovered") {
            $0.event == "watcher.recovered"
        }
        XCTAssertTrue((recovered["killed_agents"]?.description ?? "").contains("\(pid)/"), recovered.line)
        XCTAssertEqual(try Poller.wait([agent.rawValue], timeoutMilliseconds: 30_000), [agent.rawValue], "the agent was stopped")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: again, "p1/1 merged") {
            $0.isTransition(phase: "p1", batch: 1, to: "merged")
        }
        XCTAssertEqual(try again.stop(), .exited(0), again.stderr)
    }

    /// The pid a crashed life's agent had, reused by another process that even carries that
    /// agent's root id and token: its start time is not the one logged, so it is not the agent;
    /// it is left alone and reported once. Each life runs in a private pid namespace
    /// (`unshare -U -r -p -f`), where pids are handed out from 1 in order, so the pid can be
    /// taken again on purpose.
    func testAReusedPidIsNotTheAgentEvenWithItsToken() throws {
        let unshare = try unshareOrSkip(probe: ["-U", "-r", "-p", "-f", "-m", "--mount-proc", "/bin/true"],
                                        for: "a pid is only reused on purpose inside a private pid namespace")
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 1, agentBody: """
        env | grep -E '^AGENT_WATCHER_(ROOT|ROOT_ID|TOKEN)=' > forged-env.tmp && mv forged-env.tmp forged-env
        exec /bin/sleep 300
        """)
        let ns = [unshare, "-U", "-r", "-p", "-f", "-m", "--mount-proc", "--kill-child=SIGKILL"]
        let first = try ChildProcess(argv: ns + [AgentWatcherBinary.path, "run", "--pipeline", specPath, "--root", sandbox.root],
                                     outputBase: sandbox.path("e2e/life1"), workingDirectory: sandbox.root)
        let running = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: first, "p1/1 running") {
            $0.isTransition(phase: "p1", batch: 1, to: "running")
        }
        let pid = try XCTUnwrap(running.pid, running.line)
        try waitForFile(sandbox.path("forged-env"), deadline: .seconds(30))
        // unshare dies, its child (the daemon, the namespace's init) with it: a crash. Its lock on
        // the root goes only once that child has gone too.
        let children = try String(decoding: FileSystem.readFile("/proc/\(first.pid)/task/\(first.pid)/children"), as: UTF8.self)
        let daemonPid = try XCTUnwrap(pid_t(children.trimmingCharacters(in: .whitespacesAndNewlines)), children)
        let daemonGone = try ProcessControl.openPIDFD(daemonPid)
        try first.signal(SIGKILL)
        _ = try first.finish(within: 30)
        XCTAssertEqual(try Poller.wait([daemonGone.rawValue], timeoutMilliseconds: 30_000), [daemonGone.rawValue])
        // The next life: before the daemon, the namespace's init takes pids 2 ... pid-1, then starts a
        // stranger on `pid` with the agent's environment.
        let marker = "aw-stranger-\(getpid())-\(pid)"
        let script = """
        i=2; while [ "$i" -lt \(pid) ]; do /bin/true; i=$((i+1)); done
        env AW_TEST_MARKER=\(marker) $(cat forged-env) /bin/sleep 300 &
        exec "$@"
        """
        let second = try ChildProcess(argv: ns + ["/bin/sh", "-c", script, "sh", AgentWatcherBinary.path, "run", "--pipeline", specPath,
                                                   "--root", sandbox.root],
                                      outputBase: sandbox.path("e2e/life2"), workingDirectory: sandbox.root)
        defer { _ = try? second.signal(SIGKILL); _ = try? second.finish(within: 30) } // the namespace and the stranger go with it
        let recovered = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: second, "watcher.recovered") {
            $0.event == "watcher.recovered"
        }
        XCTAssertEqual(recovered["left_alone"], .array([.string(String(pid))]), recovered.line)
        XCTAssertEqual(recovered["killed_agents"], .array([]), recovered.line)
        // This life's watcher.ready, not the first life's (in its namespace the daemon's pid is
        // not `second.pid`, so it is told by coming after this life's watcher.recovered).
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: second, "watcher.ready of the second life") {
            $0.event == "watcher.ready" && $0.seq > recovered.seq
        }
        let strangers = try ProcessControl.processes(withEnvironment: "AW_TEST_MARKER", equalTo: marker)
        XCTAssertEqual(strangers.count, 1, "the stranger still runs")
        XCTAssertTrue(second.stderr.contains("the pid was reused"), second.stderr)
        XCTAssertEqual(second.stderr.components(separatedBy: "left alone").count, 2, "reported once: \(second.stderr)")
    }

    /// A daemon started from a parent that left glibc's signals 32 and 33 ignored and SIGUSR1
    /// blocked (a plain glibc `posix_spawn`) starts its agents with no signal ignored or blocked.
    /// A descendant that calls `setsid` and clears its environment is stopped with its attempt
    /// when that times out (found in the process tree below the agent), and one that was orphaned
    /// to the daemon (its subreaper) is stopped at `stop`.
    func testCleanSignalsFromAnyParentAndSetsidDescendantsStopAtTimeoutAndStop() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["maxAttempts": 1, "timeoutSeconds": 1, "killGraceSeconds": 0.2])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 2, agentBody: """
        grep -E '^Sig(Ign|Blk):' /proc/self/status > signals-$batch
        if [ "$batch" = 1 ]; then
          setsid env -i /bin/sleep 300 &
          echo $! > stray-1.tmp && mv stray-1.tmp stray-1
          exec /bin/sleep 300
        fi
        ( setsid env -i /bin/sleep 300 & echo $! > stray-2.tmp && mv stray-2.tmp stray-2 )
        object_batch $start $end | publish "$out"
        """)
        let daemon = try ChildProcess(argv: [AgentWatcherBinary.path, "run", "--pipeline", specPath, "--root", sandbox.root],
                                      outputBase: sandbox.path("e2e/plain"), workingDirectory: sandbox.root,
                                      plainSpawnBlocking: [SIGUSR1])
        defer { if daemon.status == nil { _ = try? daemon.stop(within: 30) } } // cleanup after a failure only
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "watcher.ready") { $0.event == "watcher.ready" }
        let parent = try String(decoding: FileSystem.readFile("/proc/\(daemon.pid)/status"), as: UTF8.self)
        let ignoredLine = try XCTUnwrap(parent.split(separator: "\n").first { $0.hasPrefix("SigIgn:") })
        let ignored = try XCTUnwrap(UInt64(ignoredLine.dropFirst("SigIgn:\t".count), radix: 16))
        XCTAssertEqual(ignored & (1 << 31 | 1 << 32), 1 << 31 | 1 << 32, "the daemon itself runs with 32 and 33 ignored: \(ignoredLine)")

        try waitForFile(sandbox.path("stray-1"), deadline: .seconds(30))
        try waitForFile(sandbox.path("stray-2"), deadline: .seconds(30))
        let stray1 = try XCTUnwrap(pid_t(try sandbox.read("stray-1").trimmingCharacters(in: .whitespacesAndNewlines)))
        let stray2 = try XCTUnwrap(pid_t(try sandbox.read("stray-2").trimmingCharacters(in: .whitespacesAndNewlines)))
        let gone1 = try ProcessControl.openPIDFD(stray1)
        let gone2 = try ProcessControl.openPIDFD(stray2)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "p1/1 failed (timeout)") {
            $0.isTransition(phase: "p1", batch: 1, to: "failed")
        }
        XCTAssertEqual(try Poller.wait([gone1.rawValue], timeoutMilliseconds: 30_000), [gone1.rawValue],
                       "the setsid descendant \(stray1) outlived its attempt's timeout")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "d")
        }
        XCTAssertEqual(try Poller.wait([gone2.rawValue], timeoutMilliseconds: 0), [], "the orphan runs until stop")
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        XCTAssertEqual(try Poller.wait([gone2.rawValue], timeoutMilliseconds: 30_000), [gone2.rawValue],
                       "the orphaned setsid descendant \(stray2) outlived stop")
        for k in 1...2 {
            let signals = try sandbox.read("signals-\(k)")
            XCTAssertTrue(signals.contains("SigIgn:\t0000000000000000"), signals)
            XCTAssertTrue(signals.contains("SigBlk:\t0000000000000000"), signals)
        }
    }

    // MARK: - Kernel limits

    /// Inside a private user namespace (`unshare -U -r`) with `user.max_inotify_watches` lowered
    /// (never the machine's limit), folders past the limit are a `watch.failed` record naming
    /// the limit, its value and how to raise it; the daemon goes on (folders it cannot watch are
    /// scanned on a timer), and a tree deeper than the documented depth is refused the same way.
    func testAWatchLimitIsARecordAndTheRestGoesOn() throws {
        let unshare = try unshareOrSkip(probe: ["-U", "-r", "/bin/sh", "-c", "echo 5 > /proc/sys/user/max_inotify_watches"],
                                        for: "the watch limit is only lowered inside a private user namespace")
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
        defer { if daemon.status == nil { _ = try? daemon.stop(within: 30) } } // cleanup after a failure only
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

    /// Someone removes `rejected/` again and again while the daemon refuses files into it: a
    /// move that finds its folder gone makes it again; the daemon never stops, and every file
    /// is refused once (found by a new user: it died with "openat2(...rejected): No such file").
    func testTheRejectedFolderRemovedWhileFilesAreRefusedNeverStopsTheDaemon() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "d", batchSize: 1, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 1, agentBody: "object_batch $start $end | publish \"$out\"")
        let daemon = try sandbox.start(["run", "--pipeline", specPath, "--root", sandbox.root])
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: "d") }
        let count = 60
        for k in 1...count {
            try sandbox.publish("mailbox/d/outbox/junk-\(k).json", "{}", staging: "mailbox/d/outbox/tmp")
            // Racing the daemon's move on purpose: a removal that meets a file just moved in fails, and the next one goes on.
            if k % 2 == 0 { _ = try? FileManager.default.removeItem(atPath: sandbox.path("mailbox/d/rejected")) }
        }
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "junk-\(count) refused") {
            $0.event == "file.rejected" && ($0["from"]?.string ?? "").hasSuffix("/junk-\(count).json")
        }
        let refused = try EventLog.read(sandbox.eventLog).filter { $0.event == "file.rejected" }.compactMap { $0["from"]?.string }
        for k in 1...count {
            XCTAssertEqual(refused.filter { $0.hasSuffix("/junk-\(k).json") }.count, 1, "junk-\(k) refused once")
        }
        XCTAssertEqual(sandbox.list("mailbox/d/outbox"), ["tmp"], "nothing left in the outbox")
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
    }

}
