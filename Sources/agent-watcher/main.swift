import AgentWatcher
import Glibc

// agent-watcher: exit codes 0 (done), 1 (failure), 2 (done, with failed or blocked batches), 64 (usage).
var args = Array(CommandLine.arguments.dropFirst())
let name = args.isEmpty ? "help" : args.removeFirst()
let code: Int32
var current: CommandSpec?
do {
    if name == "--help" || name == "-h" {
        Console.out(HelpText.top)
        code = 0
    } else if name == "--version" || name == "version" {
        Console.out(CommandTable.version)
        code = 0
    } else {
        guard let spec = CommandTable.named(name) else { throw UsageError("unknown command '\(name)'") }
        current = spec
        let parsed = try Arguments(args, for: spec)
        if parsed.wantsHelp {
            Console.out(HelpText.command(spec))
            code = 0
        } else {
            code = try spec.main(parsed)
        }
    }
} catch let e as UsageError {
    if let spec = e.command.flatMap(CommandTable.named) ?? current {
        Console.error("agent-watcher \(spec.name): \(e.message)\nusage: \(HelpText.usageLine(spec))\nRun 'agent-watcher help \(spec.name)' for more.")
    } else {
        Console.error("agent-watcher: \(e.message)\nRun 'agent-watcher help' for usage.")
    }
    code = 64
} catch {
    Console.error("agent-watcher: \(error)")
    code = 1
}
exit(code)
