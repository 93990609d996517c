import AgentWatcher
import Glibc

// agent-watcher: exit codes 0 (done), 1 (failure), 64 (usage).
var args = Array(CommandLine.arguments.dropFirst())
let command = args.isEmpty ? "help" : args.removeFirst()
let code: Int32
do {
    var parsed = try Arguments(args)
    switch command {
    case "run": code = try RunCommand.main(&parsed)
    case "demo": code = try DemoCommand.main(&parsed)
    case "status": code = try StatusCommand.main(&parsed)
    case "tail": code = try TailCommand.main(&parsed)
    case "simulate-agent": code = try SimulateAgentCommand.main(&parsed)
    case "help", "--help", "-h": Console.out(Usage.text); code = 0
    case "--version", "version": Console.out("agent-watcher 0.1.0 (event schema 1)"); code = 0
    default: throw UsageError("unknown command '\(command)'")
    }
} catch let e as UsageError {
    Console.error("agent-watcher: \(e.message)\nRun 'agent-watcher help' for usage.")
    code = 64
} catch {
    Console.error("agent-watcher: \(error)")
    code = 1
}
exit(code)
