import AgentWatcher
import Glibc

// agent-watcher: exit codes 0 (done), 1 (failure), 64 (usage).
var args = Array(CommandLine.arguments.dropFirst())
let command = args.isEmpty ? "help" : args.removeFirst()
let code: Int32
do {
    var parsed = try Arguments(args)
    let commands: [String: (inout Arguments) throws -> Int32] = [
        "run": RunCommand.main,
        "check": CheckCommand.main,
        "demo": DemoCommand.main,
        "status": StatusCommand.main,
        "tail": TailCommand.main,
        "simulate-agent": SimulateAgentCommand.main,
        "send": SendCommand.main,
        "messages": MessagesCommand.main,
        "stop": StopCommand.main,
        "list": ListCommand.main,
        "show": ShowCommand.main,
        "dashboard": DashboardCommand.main,
        "pause": ControlCommands.handler(.pause),
        "resume": ControlCommands.handler(.resume),
        "retry": ControlCommands.handler(.retry),
        "skip": ControlCommands.handler(.skip),
        "cancel": ControlCommands.handler(.cancel),
        "drain": ControlCommands.handler(.drain),
    ]
    if let handler = commands[command] {
        code = try handler(&parsed)
    } else if ["help", "--help", "-h"].contains(command) {
        Console.out(Usage.text)
        code = 0
    } else if ["--version", "version"].contains(command) {
        Console.out("agent-watcher 0.1.0 (event schema 1)")
        code = 0
    } else {
        throw UsageError("unknown command '\(command)'")
    }
} catch let e as UsageError {
    Console.error("agent-watcher: \(e.message)\nRun 'agent-watcher help' for usage.")
    code = 64
} catch {
    Console.error("agent-watcher: \(error)")
    code = 1
}
exit(code)
