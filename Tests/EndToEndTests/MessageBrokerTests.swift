import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem
import XCTest

/// The message broker: agents drop envelopes into `mailbox/agents/<recipient>/`; the daemon
/// logs `message.received`, `message.delivered`, `message.acknowledged` (the recipient moved it
/// to `cur/`) and, once, `message.unacknowledged`; `batch.done` to `watcher` completes a batch.
final class MessageBrokerTests: EndToEndTestCase {
    /// Two agents of one run talk: alice (batch 1) asks bob (batch 2) through the mailbox and
    /// waits for the answer before writing her batch; bob answers by writing straight into
    /// alice's folder, which the daemon moves into alice's `new/`.
    func testTwoScriptedAgentsExchangeARequestAndAResponse() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "talk", batchSize: 1, phases: [Fixtures.objectPhase("1", file: "out/talk.json")])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 2, agentBody: #"""
        m=mailbox/agents
        if [ "$batch" = 1 ]; then
          mkdir -p $m/bob/tmp $m/bob/new
          printf '{"id":"req-1","from":"alice","to":"bob","type":"request","run":"%s","phase":"%s","batch":%s,"body":{"question":"what is item 2?"}}\n' \
            "$run" "$phase" "$batch" > $m/bob/tmp/req-1.json
          mv $m/bob/tmp/req-1.json $m/bob/new/req-1.json
          wait_for $m/alice/new/resp-1.json || exit 3
          mkdir -p $m/alice/cur
          mv $m/alice/new/resp-1.json $m/alice/cur/resp-1.json
          grep -q '"answer":"w2"' $m/alice/cur/resp-1.json || exit 4
        else
          wait_for $m/bob/new/req-1.json || exit 3
          mkdir -p $m/bob/cur $m/alice
          mv $m/bob/new/req-1.json $m/bob/cur/req-1.json
          printf '{"id":"resp-1","from":"bob","to":"alice","type":"response","reply_to":"req-1","body":{"answer":"w2"}}\n' \
            > $m/alice/resp-1.json
        fi
        object_batch "$start" "$end" | publish "$out"
        """#)
        let daemon = try startDaemon(sandbox, spec: specPath)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "run.completed") {
            $0.isEvent("run.completed", run: "talk")
        }
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "resp-1 acknowledged") {
            $0.event == "message.acknowledged" && $0["id"]?.string == "resp-1"
        }
        let records = try EventLog.read(sandbox.eventLog)
        XCTAssertEqual(finalStates(records, run: "talk"), ["1/1": "merged", "1/2": "merged"], EventLog.tail(sandbox.eventLog))

        // req-1 went tmp/ -> new/ by rename: delivered where it was (unless bob took it first).
        let req = messageEvents(records, id: "req-1")
        XCTAssertEqual(req.first, "message.received")
        XCTAssertEqual(req.last, "message.acknowledged")
        XCTAssertFalse(req.contains("message.unacknowledged"))
        let received = try XCTUnwrap(records.first { $0.event == "message.received" && $0["id"]?.string == "req-1" })
        XCTAssertEqual(received.from, "alice")
        XCTAssertEqual(received.to, "bob")
        XCTAssertEqual(received["type"]?.string, "request")
        XCTAssertEqual(received.run, "talk")
        XCTAssertEqual(received.phase, "1")
        XCTAssertEqual(received.batch, 1)
        // resp-1 was written into alice's folder: the daemon delivered it into new/.
        XCTAssertEqual(messageEvents(records, id: "resp-1"), ["message.received", "message.delivered", "message.acknowledged"])
        let delivered = try XCTUnwrap(records.first { $0.event == "message.delivered" && $0["id"]?.string == "resp-1" })
        XCTAssertEqual(delivered["path"]?.string, sandbox.path("mailbox/agents/alice/new/resp-1.json"))
        let acknowledged = try XCTUnwrap(records.first { $0.event == "message.acknowledged" && $0["id"]?.string == "resp-1" })
        XCTAssertEqual(acknowledged["path"]?.string, sandbox.path("mailbox/agents/alice/cur/resp-1.json"))
        XCTAssertEqual(sandbox.list("mailbox/agents/alice/cur"), ["resp-1.json"])
        XCTAssertEqual(sandbox.list("mailbox/agents/bob/cur"), ["req-1.json"])
        try assertWellFormedLog(sandbox.eventLog)

        // messages: one thread, the response below the request, both acknowledged.
        let shown = try sandbox.run(["messages", "--root", sandbox.root])
        XCTAssertEqual(shown.exitCode, 0, shown.stderr)
        let lines = shown.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "thread req-1 (2 messages; alice, bob)", shown.stdout)
        XCTAssertTrue(lines.count == 3 && lines[1].hasPrefix("  req-1  alice → bob  request  acknowledged"), shown.stdout)
        XCTAssertTrue(lines.count == 3 && lines[2].hasPrefix("    ↳ resp-1  bob → alice  response  acknowledged"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains(#"{"answer":"w2"}"#), "the body comes from the file:\n\(shown.stdout)")
        let byReply = try sandbox.run(["messages", "--root", sandbox.root, "--thread", "resp-1"])
        XCTAssertEqual(byReply.stdout, shown.stdout)
    }

    /// Envelopes that cannot be read go to the folder's rejected/ with a .error, and a
    /// file.rejected record; nothing of them is received or delivered.
    func testMalformedEnvelopesAreRejectedWithTheirReason() throws {
        let sandbox = try makeSandbox()
        let bob = "mailbox/agents/bob"
        try FileSystem.createDirectory(sandbox.path(bob + "/tmp"))
        try FileSystem.createDirectory(sandbox.path(bob + "/new"))
        let daemon = try startDaemon(sandbox, spec: try installQuietPipeline(sandbox))
        // Renamed into new/ (complete): missing "to"; not JSON at all.
        try sandbox.publish(bob + "/new/missing.json", #"{"id":"x1","from":"alice","type":"request"}"#, staging: bob + "/tmp")
        try sandbox.publish(bob + "/new/garbage.json", "this is not JSON\n", staging: bob + "/tmp")
        // Written in place into the folder: a recipient that is a path; an unknown type.
        try sandbox.write(bob + "/escape.json", #"{"id":"x2","from":"alice","to":"../../etc","type":"request"}"#)
        try sandbox.write(bob + "/new/shout.json", #"{"id":"x3","from":"alice","to":"bob","type":"shout"}"#)
        // Addressed to someone else.
        try sandbox.write(bob + "/new/wrong.json", #"{"id":"x4","from":"alice","to":"carol","type":"query"}"#)

        func check(_ expected: [(file: String, reason: String)]) throws {
            for (file, reason) in expected {
                let record = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "file.rejected of \(file)") {
                    $0.event == "file.rejected" && $0.from?.hasSuffix("/" + file) == true
                }
                XCTAssertTrue(record.reason?.hasPrefix(reason) == true, "\(file): \(record.reason ?? "no reason")")
                XCTAssertEqual(record["path"]?.string, sandbox.path(bob + "/rejected/" + file))
                XCTAssertEqual(sandbox.kind(bob + "/rejected/" + file), file == "link.json" ? .symlink : .regular, file)
                let note = try sandbox.read(bob + "/rejected/" + file + ".error")
                XCTAssertTrue(note.hasPrefix(reason), "\(file).error: \(note)")
            }
        }
        try check([
            ("missing.json", #"missing.json: invalid message envelope: missing "to""#),
            ("garbage.json", "garbage.json: message envelope is not JSON: "),
            ("escape.json", #"escape.json: invalid message envelope: "to": "../../etc" contains '/'"#),
            ("shout.json", #"shout.json: invalid message envelope: "type": unknown message type "shout""#),
            ("wrong.json", #"wrong.json: message "x4" is addressed to "carol" but was dropped in"#),
        ])
        // A symbolic link renamed into new/ (now surely watched) is refused unread and moved aside as a link.
        try FileSystem.createDirectory(sandbox.path("outside"))
        try sandbox.write("outside/secret.json", #"{"id":"x5","from":"a","to":"bob","type":"query"}"#)
        XCTAssertEqual(symlink(sandbox.path("outside/secret.json"), sandbox.path(bob + "/tmp/link.json")), 0)
        try FileSystem.rename(sandbox.path(bob + "/tmp/link.json"), sandbox.path(bob + "/new/link.json"))
        try check([("link.json", "link.json: message refused: the file is a symbolic link")])
        XCTAssertEqual(sandbox.list(bob + "/new"), [])
        XCTAssertEqual(sandbox.list(bob), ["new", "rejected", "tmp"], "escape.json left the folder")
        let records = try EventLog.read(sandbox.eventLog)
        XCTAssertFalse(records.contains { $0.event.hasPrefix("message.") }, "nothing malformed is received")
        XCTAssertEqual(try sandbox.read("outside/secret.json"), #"{"id":"x5","from":"a","to":"bob","type":"query"}"#)
    }

    /// A message nobody moves to cur/ gets exactly one message.unacknowledged after the ack
    /// timeout (here 0.3 s, from AGENT_WATCHER_ACK_TIMEOUT); a late acknowledgement is still logged.
    func testAMessageNeverAcknowledgedIsReportedOnce() throws {
        let sandbox = try makeSandbox()
        let daemon = try startDaemon(sandbox, spec: try installQuietPipeline(sandbox),
                                     environment: ["AGENT_WATCHER_ACK_TIMEOUT": "0.3"])
        let first = try sandbox.run(["send", "--root", sandbox.root, "--to", "carol", "--type", "query", "--from", "alice",
                                     "--id", "q-1", "--body", #"{"question":"anyone there?"}"#])
        XCTAssertEqual(first.exitCode, 0, first.stderr)
        XCTAssertEqual(first.stdout, "q-1\n")
        let warned = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "q-1 unacknowledged") {
            $0.event == "message.unacknowledged" && $0["id"]?.string == "q-1"
        }
        XCTAssertEqual(warned["ack_timeout_ms"]?.int, 300)
        XCTAssertEqual(warned.from, "alice")
        XCTAssertEqual(warned.to, "carol")
        let delivered = try XCTUnwrap(try EventLog.read(sandbox.eventLog).first { $0.event == "message.delivered" && $0["id"]?.string == "q-1" })
        XCTAssertGreaterThanOrEqual(warned.time - delivered.time, 0.29)

        // A second message, and its own warning, as a marker: by then q-1 has had another
        // 0.3 s at least, and must still have been reported only once.
        XCTAssertEqual(try sandbox.run(["send", "--root", sandbox.root, "--to", "carol", "--type", "query", "--id", "q-2"]).exitCode, 0)
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "q-2 unacknowledged") {
            $0.event == "message.unacknowledged" && $0["id"]?.string == "q-2"
        }
        // Late: carol reads q-1 now.
        try FileSystem.rename(sandbox.path("mailbox/agents/carol/new/q-1.json"), sandbox.path("mailbox/agents/carol/cur/q-1.json"))
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "q-1 acknowledged") {
            $0.event == "message.acknowledged" && $0["id"]?.string == "q-1"
        }
        let records = try EventLog.read(sandbox.eventLog)
        XCTAssertEqual(messageEvents(records, id: "q-1"),
                       ["message.received", "message.delivered", "message.unacknowledged", "message.acknowledged"])
        XCTAssertEqual(messageEvents(records, id: "q-2"), ["message.received", "message.delivered", "message.unacknowledged"])
        let shown = try sandbox.run(["messages", "--root", sandbox.root, "--to", "carol"])
        XCTAssertTrue(shown.stdout.contains("q-1  alice → carol  query  acknowledged"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("unacknowledged"), shown.stdout)
    }

    /// An agent writes its output in place (so the watcher would wait for the 60 s settle
    /// window or its exit) and keeps running; its `batch.done` message completes the batch at once.
    func testBatchDoneCompletesABatchWhoseAgentKeepsRunning() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "done", batchSize: 1, phases: [Fixtures.objectPhase("1", file: "out/done.json")],
                                 overrides: ["settleMilliseconds": 60_000, "timeoutSeconds": 120])
        let specPath = try Fixtures.install(in: sandbox, spec: spec, itemCount: 1, agentBody: """
        object_batch "$start" "$end" > "$out"
        '\(AgentWatcherBinary.path)' send --to watcher --type batch.done --id done-$batch || exit 5
        exec sleep 300
        """)
        let daemon = try startDaemon(sandbox, spec: specPath)
        let merged = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "1/1 merged") {
            $0.isTransition(run: "done", phase: "1", batch: 1, to: "merged")
        }
        let records = try EventLog.read(sandbox.eventLog)
        let received = try XCTUnwrap(records.first { $0.event == "message.received" && $0["id"]?.string == "done-1" })
        XCTAssertEqual(received["type"]?.string, "batch.done")
        XCTAssertEqual(received.to, "watcher")
        XCTAssertEqual(received.run, "done")
        XCTAssertEqual(received.phase, "1", "run/phase/batch come from the agent's environment")
        XCTAssertEqual(received.batch, 1)
        let consumed = try XCTUnwrap(records.first { $0.event == "message.acknowledged" && $0["id"]?.string == "done-1" })
        XCTAssertEqual(consumed.reason, "consumed_by_watcher")
        XCTAssertTrue(sandbox.exists("mailbox/agents/watcher/cur/done-1.json"))
        let validating = try XCTUnwrap(records.first { $0.isTransition(phase: "1", batch: 1, from: "running", to: "validating") })
        XCTAssertGreaterThan(validating.seq, received.seq)
        XCTAssertLessThan(merged.time - received.time, 5, "no settle window was waited for")
        XCTAssertFalse(records.contains { $0.event == "agent.exited" && $0.seq < merged.seq }, "the agent was still running")
        XCTAssertEqual(try containerItems(sandbox.read("out/done.json"), key: "results", idField: nil).map(\.id), ["i1"])
    }

    /// `send` works without a daemon (the message waits in new/); `messages` shows the thread
    /// from the files, and from the log once a daemon has delivered them; `messages -f` follows.
    func testSendThenMessagesShowsTheThread() throws {
        let sandbox = try makeSandbox()
        let root = sandbox.root
        let ask = try sandbox.run(["send", "--root", root, "--to", "bob", "--type", "request", "--from", "alice",
                                   "--body", #"{"question":"ready?"}"#])
        XCTAssertEqual(ask.exitCode, 0, ask.stderr)
        let askID = ask.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(askID.hasPrefix("m-"), askID)
        XCTAssertTrue(ask.stderr.contains("no daemon runs"), ask.stderr)
        XCTAssertEqual(sandbox.list("mailbox/agents/bob/new"), [askID + ".json"])
        XCTAssertEqual(sandbox.list("mailbox/agents/bob/tmp"), [])
        // send --wait with no daemon and no --timeout would wait for ever: it says so and exits 2, the message queued.
        let waiting = try sandbox.run(["send", "--root", root, "--to", "bob", "--type", "query", "--from", "alice", "--id", "w1",
                                       "--body", "1", "--wait"], within: 30)
        XCTAssertEqual(waiting.exitCode, 2, waiting.stderr)
        XCTAssertTrue(waiting.stderr.contains("not waiting, since no daemon runs"), waiting.stderr)
        XCTAssertEqual(Set(sandbox.list("mailbox/agents/bob/new")), [askID + ".json", "w1.json"])
        try FileSystem.unlink(sandbox.path("mailbox/agents/bob/new/w1.json"))
        let envelope = try JSON.parse(sandbox.read("mailbox/agents/bob/new/\(askID).json"))
        XCTAssertEqual(envelope.keys, ["id", "from", "to", "type", "body"])
        try sandbox.write("answer.json", #"{"answer": "yes", "items": [1, 2]}"#)
        let answer = try sandbox.run(["send", "--root", root, "--to", "alice", "--type", "response", "--from", "bob",
                                      "--reply-to", askID, "--body-file", sandbox.path("answer.json")])
        XCTAssertEqual(answer.exitCode, 0, answer.stderr)
        let answerID = answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertNotEqual(answerID, askID)

        // Refusals: exit 64 with the reason.
        let bad = try sandbox.run(["send", "--root", root, "--to", "../x", "--type", "request"])
        XCTAssertEqual(bad.exitCode, 64)
        XCTAssertTrue(bad.stderr.contains(#""to": "../x" contains '/'"#), bad.stderr)
        let badType = try sandbox.run(["send", "--root", root, "--to", "bob", "--type", "gossip"])
        XCTAssertEqual(badType.exitCode, 64)
        XCTAssertTrue(badType.stderr.contains("unknown message type 'gossip'"), badType.stderr)
        let noReply = try sandbox.run(["send", "--root", root, "--to", "bob", "--type", "response"])
        XCTAssertEqual(noReply.exitCode, 64)
        XCTAssertTrue(noReply.stderr.contains("reply_to"), noReply.stderr)

        let queued = try sandbox.run(["messages", "--root", root])
        XCTAssertEqual(queued.exitCode, 0, queued.stderr)
        XCTAssertEqual(queued.stdout, """
        thread \(askID) (2 messages; alice, bob)
          \(askID)  alice → bob  request  queued  {"question":"ready?"}
            ↳ \(answerID)  bob → alice  response  queued  {"answer":"yes","items":[1,2]}

        """)
        let byThread = try sandbox.run(["messages", "--root", root, "--thread", answerID])
        XCTAssertEqual(byThread.stdout, queued.stdout)
        let toNobody = try sandbox.run(["messages", "--root", root, "--to", "carol"])
        XCTAssertEqual(toNobody.stdout, "no agent messages to carol yet\n")
        let unknown = try sandbox.run(["messages", "--root", root, "--thread", "nope"])
        XCTAssertEqual(unknown.exitCode, 1)
        XCTAssertTrue(unknown.stderr.contains("no message with id nope"), unknown.stderr)

        // A daemon starts: both are received and delivered where they are.
        let daemon = try startDaemon(sandbox, spec: try installQuietPipeline(sandbox))
        for id in [askID, answerID] {
            try waitForEvent(log: sandbox.eventLog, deadline: .seconds(30), daemon: daemon, "\(id) delivered") {
                $0.event == "message.delivered" && $0["id"]?.string == id
            }
        }
        let delivered = try sandbox.run(["messages", "--root", root])
        XCTAssertTrue(delivered.stdout.contains("\(askID)  alice → bob  request  delivered  "), delivered.stdout)
        XCTAssertTrue(delivered.stdout.contains("↳ \(answerID)  bob → alice  response  delivered  "), delivered.stdout)

        // messages -f prints the next message of the thread when it is logged.
        let follow = try sandbox.start(["messages", "--root", root, "-f", "--thread", askID])
        try waitForText("thread \(askID)", in: follow.stdoutPath, deadline: .seconds(30))
        let more = try sandbox.run(["send", "--root", root, "--to", "bob", "--type", "feedback", "--from", "alice",
                                    "--reply-to", answerID, "--id", "thanks-1", "--body", #""thanks""#])
        XCTAssertEqual(more.exitCode, 0, more.stderr)
        XCTAssertFalse(more.stderr.contains("no daemon runs"), more.stderr)
        try waitForText("message.delivered  thanks-1  alice → bob", in: follow.stdoutPath, deadline: .seconds(30))
        XCTAssertTrue(follow.stdout.contains("message.received  thanks-1  alice → bob  feedback  [thread \(askID)]"), follow.stdout)
    }
}
