extension ControlCommand {
    /// Reads a control message: `{"command":"pause","run":"spa_for_eng"}`, with `phase` and
    /// `batch` for batch commands and an optional `id` the answer in the log will carry.
    public static func parse(_ v: JSONValue) -> Result<ControlCommand, ControlMessageError> {
        guard v.objectValue != nil else { return .failure(.init("expected a JSON object")) }
        guard let name = v["command"]?.stringValue else { return .failure(.init("missing \"command\" (a string)")) }
        guard let verb = Verb(rawValue: name) else {
            return .failure(.init("unknown command \"\(name)\"; expected one of \(Verb.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        guard let run = v["run"]?.stringValue, PlainName.check(run) == nil else {
            return .failure(.init("missing or malformed \"run\" (a plain name)"))
        }
        var phase: String?
        if let p = v["phase"] {
            guard let s = p.stringValue ?? p.intValue.map(String.init), PlainName.check(s) == nil else {
                return .failure(.init("\"phase\" must be a plain name"))
            }
            phase = s
        }
        var batch: Int?
        if let b = v["batch"] {
            guard let n = b.intValue ?? b.stringValue.flatMap({ Int($0) }), n >= 1 else {
                return .failure(.init("\"batch\" must be a whole number ≥ 1"))
            }
            batch = n
        }
        var rebuild = false
        if let r = v["rebuild"] {
            guard let b = r.boolValue else { return .failure(.init("\"rebuild\" must be true or false")) }
            rebuild = b
        }
        if rebuild {
            guard verb == .retry, phase != nil, batch == nil else {
                return .failure(.init("\"rebuild\" applies to retry of a phase: give \"phase\" and no \"batch\""))
            }
        } else if (phase == nil) != (batch == nil) {
            return .failure(.init("give both \"phase\" and \"batch\", or neither"))
        }
        if verb == .pause || verb == .resume || verb == .drain, phase != nil {
            return .failure(.init("\(name) applies to a whole run"))
        }
        if (verb == .retry || verb == .skip), phase == nil || (batch == nil && !rebuild) {
            return .failure(.init("\(name) needs \"phase\" and \"batch\""))
        }
        var max: Int?
        if let m = v["max"] {
            guard let n = m.intValue, n >= 1 else { return .failure(.init("\"max\" must be a whole number ≥ 1")) }
            max = n
        }
        var force = false
        if let f = v["force"] {
            guard let b = f.boolValue else { return .failure(.init("\"force\" must be true or false")) }
            force = b
        }
        var id: String?
        if let i = v["id"] {
            guard let s = i.stringValue, PlainName.check(s) == nil else { return .failure(.init("\"id\" must be a plain name")) }
            id = s
        }
        var drainID: String?
        if let d = v["drain_id"] {
            guard verb == .drain, let s = d.stringValue, PlainName.check(s) == nil else {
                return .failure(.init("\"drain_id\" goes with drain and must be a plain name"))
            }
            drainID = s
        }
        return .success(ControlCommand(verb: verb, run: run, phase: phase, batch: batch, id: id, max: max, force: force,
                                       rebuild: rebuild, drainID: drainID))
    }
}

public struct ControlMessageError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
