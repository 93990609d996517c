import Foundation
import XCTest

/// Every command has `--help` and `help CMD`, taken from the command table (the list comes from
/// the binary's own `commands` listing, so it cannot drift); usage errors show the usage line.
final class HelpTests: EndToEndTestCase {
    func testEveryCommandHasHelp() throws {
        let sandbox = try makeSandbox()
        let listing = try sandbox.run(["commands"])
        XCTAssertEqual(listing.exitCode, 0, listing.stderr)
        let names = listing.stdout.split(separator: "\n").map(String.init)
        for expected in ["run", "demo", "check", "status", "tail", "list", "show", "pause", "resume", "retry", "skip",
                         "cancel", "drain", "stop", "send", "messages", "simulate-agent", "completion"] {
            XCTAssertTrue(names.contains(expected), "\(expected) is listed: \(names)")
        }
        let top = try sandbox.run(["help"])
        XCTAssertTrue(top.stdout.contains("--version"), "the top-level help lists --version")
        for name in names {
            let r = try sandbox.run([name, "--help"])
            XCTAssertEqual(r.exitCode, 0, "\(name) --help: \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("USAGE\n  agent-watcher \(name)"), "\(name) --help: \(r.stdout)")
            XCTAssertTrue(r.stdout.contains("-h, --help"), "\(name) --help lists its options")
            XCTAssertEqual(r.stderr, "", name)
            let viaHelp = try sandbox.run(["help", name])
            XCTAssertEqual(viaHelp.stdout, r.stdout, "help \(name) is \(name) --help")
            if !name.hasPrefix("simulate-") && name != "commands" { // the demo's hidden simulated agent and reviewer
                XCTAssertTrue(top.stdout.contains("agent-watcher \(name)"), "the top-level help lists \(name)")
            }
        }
    }

    func testUsageErrorShowsTheUsageLine() throws {
        let sandbox = try makeSandbox()
        let r = try sandbox.run(["stop", "--agents", "maybe", "--root", sandbox.root])
        XCTAssertEqual(r.exitCode, 64)
        XCTAssertTrue(r.stderr.contains("--agents must be one of kill, leave, got 'maybe'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("usage: agent-watcher stop [--agents kill|leave] [--timeout SECONDS]"), r.stderr)
        let missing = try sandbox.run(["retry", "run1", "--root", sandbox.root])
        XCTAssertEqual(missing.exitCode, 64)
        XCTAssertTrue(missing.stderr.contains("missing PHASE"), missing.stderr)
        let noBatch = try sandbox.run(["retry", "run1", "p1", "--root", sandbox.root])
        XCTAssertEqual(noBatch.exitCode, 64)
        XCTAssertTrue(noBatch.stderr.contains("missing BATCH (or give --rebuild)"), noBatch.stderr)
    }

    func testValueFormsAndDoubleDash() throws {
        let sandbox = try makeSandbox()
        for args in [["--lines", "3"], ["--lines=3"]] {
            let r = try sandbox.run(["show", "nope"] + args + ["--root", sandbox.root])
            XCTAssertEqual(r.exitCode, 1, "\(args) parses; the run is unknown: \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("no run nope"), r.stderr)
        }
        let dashed = try sandbox.run(["show", "--root", sandbox.root, "--", "--odd"])
        XCTAssertEqual(dashed.exitCode, 1, "after -- an argument is positional: \(dashed.stderr)")
        XCTAssertTrue(dashed.stderr.contains("no run --odd"), dashed.stderr)
    }

    /// `-` is a value: `send --body-file -` reads standard input (the space form, not only `=`).
    func testDashIsAValue() throws {
        let sandbox = try makeSandbox()
        let script = "echo '{\"n\":7}' | \"$0\" send --root \"$1\" --to bob --type context --id dash-1 --body-file -"
        let r = try sandbox.run(["/bin/sh", "-c", script, AgentWatcherBinary.path, sandbox.root], binary: nil)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "dash-1")
        XCTAssertTrue(try sandbox.read("mailbox/agents/bob/new/dash-1.json").contains("\"n\":7"))
    }

    func testRootDefaultsToTheEnvironmentThenTheCurrentFolder() throws {
        let sandbox = try makeSandbox()
        var env = ProcessInfo.processInfo.environment
        env["AGENT_WATCHER_ROOT"] = sandbox.root
        let r = try sandbox.run(["tail"], environment: env)
        XCTAssertTrue(r.stderr.contains("no event log at \(sandbox.root)/logs/events.jsonl"), r.stderr)
    }

    func testCompletionScripts() throws {
        let sandbox = try makeSandbox()
        for shell in ["bash", "zsh", "fish"] {
            let r = try sandbox.run(["completion", shell])
            XCTAssertEqual(r.exitCode, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("agent-watcher"), shell)
            XCTAssertTrue(r.stdout.contains(shell == "fish" ? "-l pipeline" : "--pipeline"), "\(shell) completes run's options")
        }
        XCTAssertEqual(try sandbox.run(["completion", "tcsh"]).exitCode, 64)
        if FileManager.default.isExecutableFile(atPath: "/bin/bash") {
            let script = sandbox.path("completion.bash")
            try Data(try sandbox.run(["completion", "bash"]).stdout.utf8).write(to: URL(fileURLWithPath: script))
            let check = try sandbox.run(["/bin/bash", "-n", script], binary: nil)
            XCTAssertEqual(check.exitCode, 0, "bash parses the script: \(check.stderr)")
        }
    }
}
