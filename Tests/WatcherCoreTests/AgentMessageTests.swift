import Testing
import WatcherCore

private func parse(_ text: String) -> Result<AgentMessage, AgentMessageError> {
    AgentMessage.parse(bytes: Array(text.utf8))
}

private func error(_ text: String) -> String? {
    if case .failure(let e) = parse(text) { return e.message }
    return nil
}

@Suite("AgentMessage")
struct AgentMessageTests {
    @Test func readsAFullEnvelope() throws {
        let m = try parse("""
        {"id":"req-1","from":"alice","to":"bob","type":"request","run":"spa_for_eng","phase":"3","batch":7,
         "body":{"question":"which LEGO covers frecuentamente?"},"reply_to":null,"extra":"ignored"}
        """).get()
        #expect(m == AgentMessage(id: "req-1", from: "alice", to: "bob", type: .request, run: "spa_for_eng", phase: "3",
                                  batch: 7, body: ["question": "which LEGO covers frecuentamente?"], replyTo: nil))
        #expect(m.batchID == BatchID(run: "spa_for_eng", phase: "3", index: 7))
    }

    @Test(arguments: AgentMessage.Kind.allCases)
    func acceptsEveryType(_ kind: AgentMessage.Kind) throws {
        let m = AgentMessage(id: "m1", from: "a", to: "b", type: kind, run: "r", phase: "1", batch: 2,
                             body: "text", replyTo: "m0")
        #expect(try AgentMessage.parse(m.json).get() == m)
        #expect(try AgentMessage.parse(bytes: m.encoded()).get() == m)
    }

    @Test func encodesMembersInTheDocumentedOrder() {
        let m = AgentMessage(id: "r2", from: "bob", to: "alice", type: .response, run: "r", phase: "1", batch: 3,
                             body: ["ok": true], replyTo: "r1")
        #expect(String(decoding: m.encoded(), as: UTF8.self)
            == #"{"id":"r2","from":"bob","to":"alice","type":"response","run":"r","phase":"1","batch":3,"body":{"ok":true},"reply_to":"r1"}"# + "\n")
        let bare = AgentMessage(id: "c", from: "a", to: "b", type: .context)
        #expect(String(decoding: bare.encoded(), as: UTF8.self) == #"{"id":"c","from":"a","to":"b","type":"context"}"# + "\n")
    }

    @Test func phaseAndBatchMayBeWrittenEitherWay() throws {
        let m = try parse(#"{"id":"d","from":"a","to":"watcher","type":"batch.done","run":"r","phase":3,"batch":"7"}"#).get()
        #expect(m.phase == "3")
        #expect(m.batch == 7)
    }

    /// Every reason an envelope is refused, with the message a person reads in `<file>.error`.
    @Test(arguments: [
        ("not json", "not JSON: "),
        ("[1,2]", "expected a JSON object, got an array"),
        (#"{"from":"a","to":"b","type":"request"}"#, #"missing "id""#),
        (#"{"id":"1","to":"b","type":"request"}"#, #"missing "from""#),
        (#"{"id":"1","from":"a","type":"request"}"#, #"missing "to""#),
        (#"{"id":"1","from":"a","to":"b"}"#, #"missing "type""#),
        (#"{"id":"1","from":"a","to":"b","type":null}"#, #"missing "type""#),
        (#"{"id":7,"from":"a","to":"b","type":"request"}"#, #""id": expected a string, got a number"#),
        (#"{"id":"1","from":["a"],"to":"b","type":"request"}"#, #""from": expected a string, got an array"#),
        (#"{"id":"1","from":"a","to":"b","type":3}"#, #""type": expected a string, got a number"#),
        (#"{"id":"1","from":"a","to":"b","type":"shout"}"#,
         #""type": unknown message type "shout"; expected one of request, response, handoff, feedback, query, context, discussion, batch.done, error"#),
        (#"{"id":"1","from":"a","to":"../etc","type":"request"}"#, #""to": "../etc" contains '/'"#),
        (#"{"id":"1","from":"a","to":"..","type":"request"}"#, #""to": ".." starts with '.'"#),
        (#"{"id":"-x","from":"a","to":"b","type":"request"}"#, #""id": "-x" starts with '-'; start with a letter or digit"#),
        (#"{"id":"1","from":"Übersetzer","to":"b","type":"request"}"#, #""from": "Übersetzer" contains 'Ü'; use ASCII letters"#),
        (#"{"id":"1","from":"a/b","to":"b","type":"request"}"#, #""from": "a/b" contains '/'"#),
        (#"{"id":"1","from":"a","to":"b","type":"request","reply_to":"x/y"}"#, #""reply_to": "x/y" contains '/'"#),
        (#"{"id":"nul\u0000","from":"a","to":"b","type":"request"}"#, #""id": the name contains the control character U+0"#),
        (#"{"id":"","from":"a","to":"b","type":"request"}"#, #""id": "" is empty"#),
        (#"{"id":".hidden","from":"a","to":"b","type":"request"}"#, #""id": ".hidden" starts with '.'"#),
        (#"{"id":"a b","from":"a","to":"b","type":"request"}"#, #""id": "a b" contains a space"#),
        (#"{"id":"1","from":"a","to":"new","type":"request"}"#, #""to": "new" is a folder name of the mailbox"#),
        (#"{"id":"1","from":"a","to":"b","type":"request","run":"r/x"}"#, #""run": "r/x" contains '/'"#),
        (#"{"id":"1","from":"a","to":"b","type":"request","phase":true}"#, #""phase": expected a string, got a boolean"#),
        (#"{"id":"1","from":"a","to":"b","type":"request","batch":0}"#, #""batch": expected a whole number ≥ 1, got 0"#),
        (#"{"id":"1","from":"a","to":"b","type":"request","batch":1.5}"#, #""batch": expected a whole number ≥ 1, got 1.5"#),
        (#"{"id":"1","from":"a","to":"watcher","type":"batch.done","run":"r"}"#,
         #"a batch.done message needs "run", "phase" and "batch"; missing "phase", "batch""#),
        (#"{"id":"1","from":"a","to":"b","type":"response"}"#, #"a response needs "reply_to""#),
        (#"{"id":"1","from":"a","to":"b","type":"feedback","reply_to":"1"}"#, #""reply_to": a message cannot reply to itself"#),
    ])
    func refuses(_ text: String, _ expected: String) {
        let message = error(text)
        #expect(message?.hasPrefix(expected) == true, "got \(message ?? "no error")")
    }

    @Test func refusesNamesOver64Bytes() {
        let long = String(repeating: "a", count: 65)
        #expect(error(#"{"id":"\#(long)","from":"a","to":"b","type":"request"}"#) == #""id": the name is 65 bytes long, over 64"#)
        let fits = String(repeating: "a", count: 64)
        #expect((try? parse(#"{"id":"\#(fits)","from":"a","to":"b","type":"request"}"#).get())?.id == fits)
    }

    @Test(arguments: ["alice", "agent-7", "r_1.2", "a..b", "m-20261121080000123456-42-ff"])
    func plainNamesPass(_ name: String) {
        #expect(PlainName.check(name) == nil)
        #expect((try? parse(#"{"id":"\#(name)","from":"a","to":"b","type":"request"}"#).get())?.id == name)
    }
}
