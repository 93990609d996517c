/// A message between agents (or from an agent to the watcher), dropped as a JSON file into
/// `mailbox/agents/<recipient>/`:
///
///     {"id":"req-1","from":"alice","to":"bob","type":"request","run":"spa_for_eng","phase":"3","batch":7,
///      "body":{"question":"..."},"reply_to":null}
///
/// `id`, `from`, `to` and `type` are required. `reply_to` is required for a `response`; `run`,
/// `phase` and `batch` are required for a `batch.done`. The names `id`, `from`, `to`,
/// `reply_to` (and `run`, `phase`) end up in paths and in the event log, so they must be plain
/// names (see ``PlainName``). Other members are ignored.
public struct AgentMessage: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case request, response, handoff, feedback, query, context, discussion
        case batchDone = "batch.done"
        /// A reply saying a message could not be answered (a responder's turn failed).
        case error
    }

    public var id: String
    public var from: String
    public var to: String
    public var type: Kind
    public var run: String?
    public var phase: String?
    public var batch: Int?
    public var body: JSONValue?
    public var replyTo: String?

    public init(id: String, from: String, to: String, type: Kind, run: String? = nil, phase: String? = nil,
                batch: Int? = nil, body: JSONValue? = nil, replyTo: String? = nil) {
        self.id = id
        self.from = from
        self.to = to
        self.type = type
        self.run = run
        self.phase = phase
        self.batch = batch
        self.body = body
        self.replyTo = replyTo
    }

    /// The batch a message is about, when it names one.
    public var batchID: BatchID? {
        guard let run, let phase, let batch else { return nil }
        return BatchID(run: run, phase: phase, index: batch)
    }

    /// The recipient the watcher consumes itself (`mailbox/agents/watcher/`).
    public static let watcherName = "watcher"

    /// Folder names inside `mailbox/agents/<name>/`: no recipient may be called so.
    public static let reservedRecipientNames: Set<String> = ["tmp", "new", "cur", "rejected"]
}

/// Why an envelope was refused; `description` names the member and what was wrong.
public struct AgentMessageError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension AgentMessage {
    /// Reads an envelope from a file's bytes.
    public static func parse(bytes: [UInt8]) -> Result<AgentMessage, AgentMessageError> {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { return .failure(.init("not JSON: \(error)")) }
        return parse(value)
    }

    /// Reads an envelope from parsed JSON, naming the first member that is missing or wrong.
    public static func parse(_ v: JSONValue) -> Result<AgentMessage, AgentMessageError> {
        guard v.objectValue != nil else { return .failure(.init("expected a JSON object, got \(v.kindDescription)")) }
        do {
            let id = try name(v, "id")
            let from = try name(v, "from")
            let to = try name(v, "to")
            if reservedRecipientNames.contains(to) {
                throw AgentMessageError("\"to\": \"\(to)\" is a folder name of the mailbox, not a recipient")
            }
            guard let typeValue = v["type"], !typeValue.isNull else { throw AgentMessageError("missing \"type\"") }
            guard let typeName = typeValue.stringValue else {
                throw AgentMessageError("\"type\": expected a string, got \(typeValue.kindDescription)")
            }
            guard let type = Kind(rawValue: typeName) else {
                throw AgentMessageError("\"type\": unknown message type \"\(typeName)\"; expected one of "
                    + Kind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let run = try optionalName(v, "run")
            var phase: String?
            if let p = v["phase"], !p.isNull {
                guard let s = p.stringValue ?? p.intValue.map(String.init) else {
                    throw AgentMessageError("\"phase\": expected a string, got \(p.kindDescription)")
                }
                if let problem = PlainName.check(s) { throw AgentMessageError("\"phase\": \"\(s)\" \(problem)") }
                phase = s
            }
            var batch: Int?
            if let b = v["batch"], !b.isNull {
                guard let n = b.intValue ?? b.stringValue.flatMap({ Int($0) }), n >= 1 else {
                    throw AgentMessageError("\"batch\": expected a whole number ≥ 1, got \(b)")
                }
                batch = n
            }
            let replyTo = try optionalName(v, "reply_to")
            let body = v["body"].flatMap { $0.isNull ? nil : $0 }
            let message = AgentMessage(id: id, from: from, to: to, type: type, run: run, phase: phase, batch: batch,
                                       body: body, replyTo: replyTo)
            if type == .batchDone, run == nil || phase == nil || batch == nil {
                let missing = [("run", run == nil), ("phase", phase == nil), ("batch", batch == nil)].filter(\.1).map { "\"\($0.0)\"" }
                throw AgentMessageError("a batch.done message needs \"run\", \"phase\" and \"batch\"; missing "
                    + missing.joined(separator: ", "))
            }
            if type == .response, replyTo == nil {
                throw AgentMessageError("a response needs \"reply_to\" (the id of the message it answers)")
            }
            if let replyTo, replyTo == id { throw AgentMessageError("\"reply_to\": a message cannot reply to itself") }
            return .success(message)
        } catch let e as AgentMessageError {
            return .failure(e)
        } catch {
            return .failure(.init("\(error)"))
        }
    }

    private static func name(_ v: JSONValue, _ key: String) throws -> String {
        guard let s = try optionalName(v, key) else { throw AgentMessageError("missing \"\(key)\"") }
        return s
    }

    private static func optionalName(_ v: JSONValue, _ key: String) throws -> String? {
        guard let value = v[key], !value.isNull else { return nil }
        guard let s = value.stringValue else {
            throw AgentMessageError("\"\(key)\": expected a string, got \(value.kindDescription)")
        }
        if let problem = PlainName.check(s) {
            let shown = s.utf8.count > 60 || s.utf8.contains(0) ? "the name" : "\"\(s)\""
            throw AgentMessageError("\"\(key)\": \(shown) \(problem)")
        }
        return s
    }

    /// The envelope as JSON, members in the documented order, absent ones left out.
    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(id)), ("from", .string(from)), ("to", .string(to)), ("type", .string(type.rawValue)),
        ]
        if let run { members.append(("run", .string(run))) }
        if let phase { members.append(("phase", .string(phase))) }
        if let batch { members.append(("batch", .number(Double(batch)))) }
        if let body { members.append(("body", body)) }
        if let replyTo { members.append(("reply_to", .string(replyTo))) }
        return .object(members)
    }

    /// The file's bytes: one line of JSON and a newline.
    public func encoded() -> [UInt8] { json.serialized() + [0x0A] }
}
