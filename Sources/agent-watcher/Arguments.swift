import Foundation

/// A command line parsed against its `CommandSpec`: `--opt value`, `--opt=value`, `-x`, `-` as a
/// value, `--` ends options. Every option and argument count is checked here, so a command only
/// reads what it declared.
struct Arguments {
    let spec: CommandSpec
    private(set) var values: [String: [String]] = [:]
    private(set) var flags: Set<String> = []
    var positionals: [String] = []
    /// `--help` or `-h` was given.
    private(set) var wantsHelp = false

    init(_ args: [String], for spec: CommandSpec) throws {
        self.spec = spec
        var i = 0
        var optionsEnded = false
        func fail(_ message: String) -> UsageError { UsageError(message, command: spec.name) }
        while i < args.count {
            let a = args[i]
            i += 1
            if optionsEnded || a == "-" || !a.hasPrefix("-") { positionals.append(a); continue }
            if a == "--" { optionsEnded = true; continue }
            if a == "--help" || a == "-h" { wantsHelp = true; continue }
            let option: OptionSpec
            var inline: String?
            if a.hasPrefix("--") {
                var body = String(a.dropFirst(2))
                if let eq = body.firstIndex(of: "=") {
                    inline = String(body[body.index(after: eq)...])
                    body = String(body[..<eq])
                }
                guard let o = spec.option(named: body) else { throw fail("unknown option --\(body)") }
                option = o
            } else {
                // `-f`, `-n 5`, `-n5`; several flags may share one dash: `-fq`.
                let letters = Array(a.dropFirst())
                guard let o = spec.option(short: letters[0]) else { throw fail("unknown option -\(letters[0])") }
                if o.kind == .flag {
                    for c in letters {
                        guard let f = spec.option(short: c), f.kind == .flag else { throw fail("unknown option -\(c) in \(a)") }
                        flags.insert(f.name)
                    }
                    continue
                }
                option = o
                if letters.count > 1 { inline = String(letters.dropFirst()) }
            }
            if option.kind == .flag {
                if inline != nil { throw fail("--\(option.name) takes no value") }
                flags.insert(option.name)
                continue
            }
            let value: String
            if let inline { value = inline } else if option.kind == .optionalValue { value = "" } else {
                guard i < args.count else { throw fail("--\(option.name) needs a value (\(option.placeholder))") }
                value = args[i]
                i += 1
            }
            try Arguments.check(value, for: option, command: spec.name)
            if !option.repeatable, values[option.name] != nil { throw fail("--\(option.name) given twice") }
            values[option.name, default: []].append(value)
        }
        if wantsHelp { return }
        for o in spec.options where o.required && values[o.name] == nil { throw fail("missing --\(o.name) \(o.placeholder)") }
        let required = spec.arguments.filter { !$0.optional }.count
        let repeating = spec.arguments.contains { $0.repeating }
        if positionals.count < required {
            throw fail("missing \(spec.arguments.filter { !$0.optional }.dropFirst(positionals.count).map(\.name).joined(separator: " "))")
        }
        if !repeating, positionals.count > spec.arguments.count {
            throw fail("unexpected argument '\(positionals[spec.arguments.count])'")
        }
    }

    static func check(_ value: String, for option: OptionSpec, command: String) throws {
        switch option.kind {
        case .int:
            guard Int(value) != nil else { throw UsageError("--\(option.name) expects a whole number, got '\(value)'", command: command) }
        case .choice(let allowed):
            guard allowed.contains(value) else {
                throw UsageError("--\(option.name) must be one of \(allowed.joined(separator: ", ")), got '\(value)'", command: command)
            }
        case .flag, .string, .path, .optionalValue:
            break
        }
    }

    private func declared(_ name: String) -> OptionSpec {
        guard let o = spec.option(named: name) else { preconditionFailure("\(spec.name) reads --\(name), which its CommandSpec does not declare") }
        return o
    }

    /// The value of `--name` (the last one given), or nil.
    func option(_ name: String) -> String? { _ = declared(name); return values[name]?.last }

    /// Every value of a repeatable `--name`, in order.
    func options(_ name: String) -> [String] { _ = declared(name); return values[name] ?? [] }

    func flag(_ name: String) -> Bool { _ = declared(name); return flags.contains(name) }

    func int(_ name: String) -> Int? { option(name).flatMap { Int($0) } }

    /// `--root`: absolute; default `$AGENT_WATCHER_ROOT`, then the current folder.
    var root: String {
        let given = option("root") ?? ProcessInfo.processInfo.environment["AGENT_WATCHER_ROOT"].flatMap { $0.isEmpty ? nil : $0 }
        return given.map(Arguments.absolute) ?? FileManager.default.currentDirectoryPath
    }

    /// `path` made absolute against the current folder (`.` and a trailing `/` are dropped).
    static func absolute(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        if path.hasPrefix("/") { return path }
        if path == "." || path.isEmpty { return cwd }
        let trimmed = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        return cwd + "/" + trimmed
    }

    func usageError(_ message: String) -> UsageError { UsageError(message, command: spec.name) }
}
