/// A usage error: exit 64.
struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// `--name value`, `--name=value`, `--flag`, `-f` and positionals; each command takes what it
/// knows and `finish()` refuses the rest.
struct Arguments {
    var options: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []

    init(_ args: [String]) throws {
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" { positionals += args[(i + 1)...]; break }
            if a.hasPrefix("--") {
                let body = a.dropFirst(2)
                if let eq = body.firstIndex(of: "=") {
                    options[String(body[..<eq]), default: []].append(String(body[body.index(after: eq)...]))
                } else if i + 1 < args.count, !args[i + 1].hasPrefix("-"), !Arguments.flagNames.contains(String(body)) {
                    options[String(body), default: []].append(args[i + 1])
                    i += 1
                } else {
                    flags.insert(String(body))
                }
            } else if a.hasPrefix("-") && a.count > 1 {
                for c in a.dropFirst() { flags.insert(String(c)) }
            } else {
                positionals.append(a)
            }
            i += 1
        }
    }

    static let flagNames: Set<String> = ["json", "follow", "quiet", "help", "daemon", "dry-run", "force", "watch"]

    /// The next value of `--name` (an option may be given more than once).
    mutating func option(_ name: String) -> String? {
        guard var values = options[name], !values.isEmpty else { return nil }
        let first = values.removeFirst()
        options[name] = values.isEmpty ? nil : values
        return first
    }

    mutating func flag(_ names: String...) -> Bool {
        var found = false
        for n in names where flags.remove(n) != nil { found = true }
        return found
    }

    mutating func required(_ name: String) throws -> String {
        guard let v = option(name) else { throw UsageError("missing --\(name)") }
        return v
    }

    mutating func int(_ name: String) throws -> Int? {
        guard let v = option(name) else { return nil }
        guard let n = Int(v) else { throw UsageError("--\(name) expects a whole number, got '\(v)'") }
        return n
    }

    func finish() throws {
        if let o = options.keys.sorted().first { throw UsageError("unknown option --\(o)") }
        if let f = flags.sorted().first { throw UsageError("unknown option \(f.count == 1 ? "-" : "--")\(f)") }
        if let p = positionals.first { throw UsageError("unexpected argument '\(p)'") }
    }
}
