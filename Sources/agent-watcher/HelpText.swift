import AgentWatcher

/// The top-level help, `CMD --help` / `help CMD`, and the usage line of a usage error, all made
/// from `CommandTable`.
enum HelpText {
    static let intro = """
    agent-watcher: runs LLM-agent batch jobs unattended. Agents write batch files into mailbox
    folders; the watcher validates each one the moment it is complete, merges it into the run's
    main output file, and spawns the next agent, or retries with the errors in the prompt.
    Every state change is one JSON line in logs/events.jsonl.
    """

    static let notes = """
    State-changing commands (stop, pause, resume, retry, skip, cancel, drain) are carried out by the
    daemon: the CLI drops a control message into mailbox/control/ and reports the daemon's answer
    from the event log. Without a running daemon they say so and exit 1.
    --root defaults to $AGENT_WATCHER_ROOT, then the current folder: mailbox/ and logs/ live there.
    Exit codes: 0 done, 1 failure, 2 done but some batches failed or are blocked (see the command's
    help), 64 usage error.
    """

    /// `agent-watcher status [--watch] [--root DIR]`
    static func usageLine(_ c: CommandSpec) -> String {
        // Required options first (`run --pipeline FILE...`), then the arguments, then the rest.
        var parts = ["agent-watcher", c.name] + c.options.filter(\.required).map(\.usage)
        for a in c.arguments {
            let shown = a.repeating ? a.name + "..." : a.name
            parts.append(a.optional ? "[\(shown)]" : shown)
        }
        parts += c.options.filter { !$0.required }.map(\.usage)
        return parts.joined(separator: " ")
    }

    static var top: String {
        var lines = [intro, "", "USAGE"]
        for c in CommandTable.all where !c.hidden {
            lines.append("  " + usageLine(c))
            lines.append("      " + c.summary)
        }
        lines += ["", "  agent-watcher --version", "      the version and the schema versions it writes",
                  "  agent-watcher COMMAND --help", "      one command's options, defaults and examples", "", notes]
        return lines.joined(separator: "\n")
    }

    static func command(_ c: CommandSpec) -> String {
        var lines = ["agent-watcher \(c.name): \(c.summary)", "", "USAGE", "  " + usageLine(c)]
        if !c.details.isEmpty { lines += ["", wrap(c.details, indent: "")] }
        if !c.arguments.isEmpty {
            lines += ["", "ARGUMENTS"]
            let width = c.arguments.map(\.name.count).max() ?? 0
            for a in c.arguments { lines.append("  " + pad(a.name, width) + "  " + a.summary) }
        }
        lines += ["", "OPTIONS"]
        var rows: [(String, String)] = c.options.map { o in
            var left = "--\(o.name)" + (o.kind == .flag ? "" : o.kind == .optionalValue ? "[=\(o.placeholder)]" : " \(o.placeholder)")
            if let s = o.short { left = "-\(s), " + left }
            var right = o.summary
            if o.required { right += " (required)" }
            if o.repeatable { right += " (may be given more than once)" }
            if let d = o.defaultValue { right += " (default: \(d))" }
            return (left, right)
        }
        rows.append(("-h, --help", "this help"))
        let width = rows.map(\.0.count).max() ?? 0
        for (l, r) in rows { lines.append("  " + pad(l, width) + "  " + r) }
        if !c.examples.isEmpty {
            lines += ["", "EXAMPLES"]
            for e in c.examples { lines.append("  " + e) }
        }
        return lines.joined(separator: "\n")
    }

    /// `help [COMMAND]`.
    static func helpCommand(_ args: Arguments) throws -> Int32 {
        guard let name = args.positionals.first else { Console.out(top); return 0 }
        guard let c = CommandTable.named(name) else { throw UsageError("unknown command '\(name)'") }
        Console.out(command(c))
        return 0
    }

    static func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }

    static func wrap(_ text: String, indent: String, width: Int = 96) -> String {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > width, line != indent { lines.append(line); line = indent }
            line += (line == indent ? "" : " ") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
