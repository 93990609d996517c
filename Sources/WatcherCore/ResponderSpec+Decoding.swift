extension ResponderSpec {
    static let keys = ["name", "argv", "prompt", "instructions", "on", "timeoutSeconds", "concurrency", "maxAttempts",
                       "maxTurnsPerThread", "maxConsecutiveErrors", "maxThreadBytes", "reply", "output", "session", "env"]
    static let sessionKeys = ["resumeArgs"]

    /// One element of `responders`, every problem reported with its key path.
    static func decode(_ value: JSONValue, at path: String, _ r: inout SpecReader) -> ResponderSpec? {
        guard let o = r.object(value, at: path, keys: keys) else { return nil }
        var s = ResponderSpec(name: r.string(o, "name", required: true) ?? "",
                              argv: r.strings(o, "argv", required: true) ?? [""])
        s.prompt = r.oneOf(o, "prompt") ?? s.prompt
        s.instructions = r.string(o, "instructions")
        if let on = r.array(o, "on", { reader, v, p -> AgentMessage.Kind? in
            guard let text = v.stringValue, let kind = AgentMessage.Kind(rawValue: text) else {
                reader.report(p, "expected a message type, one of "
                    + AgentMessage.Kind.allCases.map(\.rawValue).joined(separator: ", ") + ", got \(v)")
                return nil
            }
            return kind
        }) { s.on = on }
        s.timeoutSeconds = r.double(o, "timeoutSeconds") ?? s.timeoutSeconds
        s.concurrency = r.int(o, "concurrency") ?? s.concurrency
        s.maxAttempts = r.int(o, "maxAttempts") ?? s.maxAttempts
        s.maxTurnsPerThread = r.int(o, "maxTurnsPerThread") ?? s.maxTurnsPerThread
        s.maxConsecutiveErrors = r.int(o, "maxConsecutiveErrors") ?? s.maxConsecutiveErrors
        s.maxThreadBytes = r.int(o, "maxThreadBytes") ?? s.maxThreadBytes
        s.reply = r.oneOf(o, "reply") ?? s.reply
        s.output = r.oneOf(o, "output") ?? s.output
        if let v = o["session"], !v.isNull, let so = r.object(v, at: o.path("session"), keys: sessionKeys) {
            s.resumeArgs = r.strings(so, "resumeArgs") ?? []
        }
        s.env = r.stringMap(o, "env") ?? [:]
        return s
    }

    /// Value checks of the spec's `responders`, each as `responders[i].key: what was expected`.
    static func checkProblems(_ responders: [ResponderSpec]) -> [SpecProblem] {
        var out: [SpecProblem] = []
        var seen: [String] = []
        for (i, s) in responders.enumerated() {
            func add(_ key: String, _ message: String) { out.append(SpecProblem(key: "responders[\(i)].\(key)", message: message)) }
            if let p = PlainName.check(s.name) {
                add("name", "expected a plain name, got \"\(s.name)\": it \(p)")
            } else if s.name == AgentMessage.watcherName || AgentMessage.reservedRecipientNames.contains(s.name) {
                add("name", "\"\(s.name)\" is a name of the mailbox itself (watcher, tmp, new, cur, rejected)")
            } else if seen.contains(s.name) {
                add("name", "\"\(s.name)\" is used by an earlier responder")
            }
            seen.append(s.name)
            if s.argv.isEmpty { add("argv", "expected a non-empty array (the program and its arguments)") }
            if let first = s.argv.first, first.contains("{") {
                add("argv[0]", "expected a program, not a placeholder: only the spec says what runs")
            }
            for (key, list) in [("argv", s.argv), ("session.resumeArgs", s.resumeArgs)] {
                for (j, arg) in list.enumerated() {
                    for name in Self.placeholderNames(in: arg) where !placeholders.contains(name) {
                        add("\(key)[\(j)]", "unknown placeholder {\(name)}; expected one of "
                            + placeholders.map { "{\($0)}" }.joined(separator: ", "))
                    }
                }
            }
            if s.reply == .file, !s.argv.contains(where: { $0.contains("{reply_file}") }) {
                add("reply", "\"file\" needs {reply_file} in argv (where the agent writes its answer)")
            }
            if s.on.isEmpty { add("on", "expected at least one message type") }
            if s.on.contains(.error) { add("on", "error replies never wake a responder (so two failing responders cannot loop)") }
            if !(s.timeoutSeconds > 0) { add("timeoutSeconds", "expected a number > 0, got \(s.timeoutSeconds)") }
            for (key, n) in [("concurrency", s.concurrency), ("maxAttempts", s.maxAttempts),
                             ("maxTurnsPerThread", s.maxTurnsPerThread), ("maxConsecutiveErrors", s.maxConsecutiveErrors)]
            where n < 1 { add(key, "expected a whole number ≥ 1, got \(n)") }
            if s.maxThreadBytes < 0 { add("maxThreadBytes", "expected a whole number ≥ 0, got \(s.maxThreadBytes)") }
        }
        return out
    }

    /// The `{name}`s in an argv element.
    static func placeholderNames(in arg: String) -> [String] {
        var out: [String] = []
        var rest = Substring(arg)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return out
    }
}
