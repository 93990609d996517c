/// One command of the command line, as data: parsing, `CMD --help`, `help CMD`, the top-level
/// help, usage errors and the shell completion scripts are all made from it.
struct CommandSpec: Sendable {
    var name: String
    /// One line, shown in the top-level help.
    var summary: String
    /// More about it, shown by `CMD --help`.
    var details: String = ""
    var arguments: [ArgumentSpec] = []
    var options: [OptionSpec] = []
    var examples: [String] = []
    /// Left out of the top-level help (still has `--help`, still completes).
    var hidden = false
    var main: @Sendable (Arguments) throws -> Int32

    func option(named name: String) -> OptionSpec? { options.first { $0.name == name } }
    func option(short: Character) -> OptionSpec? { options.first { $0.short == short } }
}

/// A positional argument.
struct ArgumentSpec: Sendable {
    var name: String
    var summary: String
    var optional = false
    /// Takes every remaining positional.
    var repeating = false
}

/// An option: a flag, or one that takes a value.
struct OptionSpec: Sendable {
    enum Kind: Equatable, Sendable {
        case flag
        case string
        case int
        case path
        case choice([String])
        /// `--opt` alone, or `--opt=VALUE` (never the next argument): `run --dashboard[=ADDR]`.
        case optionalValue
    }

    var name: String
    var short: Character? = nil
    var kind: Kind
    /// The value's name in usage lines: `--root DIR`.
    var placeholder: String = "VALUE"
    var summary: String
    var defaultValue: String? = nil
    var required = false
    var repeatable = false

    static func flag(_ name: String, short: Character? = nil, _ summary: String) -> OptionSpec {
        OptionSpec(name: name, short: short, kind: .flag, summary: summary)
    }

    static func value(_ name: String, short: Character? = nil, _ kind: Kind, _ placeholder: String, _ summary: String,
                      default defaultValue: String? = nil, required: Bool = false, repeatable: Bool = false) -> OptionSpec {
        OptionSpec(name: name, short: short, kind: kind, placeholder: placeholder, summary: summary,
                   defaultValue: defaultValue, required: required, repeatable: repeatable)
    }

    /// `--root DIR`: the same everywhere (see `Arguments.root`).
    static let root = OptionSpec.value("root", .path, "DIR", "the folder holding mailbox/ and logs/ (relative paths are made absolute)",
                                       default: "$AGENT_WATCHER_ROOT, then the current folder")
    static let json = OptionSpec.flag("json", "print one JSON document (see the README's JSON output section)")

    /// `--root DIR`, `[-w]`, `[-n N]`, `--pipeline FILE...` (the short form where there is one).
    var usage: String {
        let spelled = short.map { "-\($0)" } ?? "--\(name)"
        let base = kind == .flag ? spelled : kind == .optionalValue ? "\(spelled)[=\(placeholder)]" : "\(spelled) \(placeholder)"
        let shown = repeatable ? base + "..." : base
        return required ? shown : "[\(shown)]"
    }
}

/// A usage error: exit 64, with the command's usage line.
struct UsageError: Error {
    var message: String
    var command: String?
    init(_ message: String, command: String? = nil) {
        self.message = message
        self.command = command
    }
}
