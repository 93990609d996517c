import AgentWatcher

/// Every command of `agent-watcher`, as data (see `CommandSpec`). The order is the help's order.
enum CommandTable {
    static let version = "agent-watcher 0.1.0 (event schema 1, JSON output schema 1)"

    static func named(_ name: String) -> CommandSpec? { all.first { $0.name == name } }

    static let run = ArgumentSpec(name: "RUN", summary: "the run's name (the spec's \"run\")")
    static let phase = ArgumentSpec(name: "PHASE", summary: "a phase id")
    static let batch = ArgumentSpec(name: "BATCH", summary: "a batch number, 1 for the first")

    static let all: [CommandSpec] = [
        CommandSpec(
            name: "demo", summary: "the built-in three-phase course pipeline with simulated agents, in a fresh folder",
            options: [
                .value("root", .path, "DIR", "where to run it", default: "a new folder under $TMPDIR or /tmp"),
                .value("seed", .int, "N", "the simulated agents' random seed", default: "42"),
                .flag("quiet", short: "q", "print only the summary"),
                .value("dashboard", .optionalValue, "ADDR", "serve the dashboard beside it (and on after it ends, until Ctrl-C)", default: "127.0.0.1:8765"),
            ],
            examples: ["agent-watcher demo", "agent-watcher demo --seed 7 --root /tmp/demo"],
            main: DemoCommand.main),
        CommandSpec(
            name: "run", summary: "run the daemon on pipeline specs, in the foreground or detached",
            details: """
            Ctrl-C / SIGTERM stops it cleanly; SIGHUP re-reads the specs. With --daemon it is detached \
            (output in logs/watcher.log, pid in logs/watcher.pid): the command returns once it is watching \
            and prints its pid.
            """,
            arguments: [ArgumentSpec(name: "PIPELINE", summary: "more pipeline specs, after a --pipeline one", optional: true, repeating: true)],
            options: [
                .value("pipeline", .path, "FILE", "a pipeline spec (give it once per run)", required: true, repeatable: true),
                .root,
                .flag("daemon", "detach: start in the background, print the pid once it is watching"),
                .flag("until-done", "exit once every run is complete: 0 when every batch merged or was skipped, 2 when some failed, are blocked or were cancelled"),
                .flag("quiet", short: "q", "print no progress lines (the foreground run prints one per transition worth attention)"),
                .value("batches", .string, "K|FROM-TO", "a trial on a part: start only these batches (1-based); the others stay pending for a later run"),
                .value("phases", .string, "ID,...", "a trial on a part: start only these phases' batches; the others stay pending"),
                .value("dashboard", .optionalValue, "ADDR", "a foreground run: serve the dashboard beside it", default: "127.0.0.1:8765"),
            ],
            examples: ["agent-watcher run --pipeline course.json", "agent-watcher run --pipeline course.json --until-done --quiet; echo $?", "agent-watcher run --pipeline course.json --batches 5-5 --until-done", "agent-watcher run --pipeline a.json --pipeline b.json --daemon"],
            main: RunCommand.main),
        CommandSpec(
            name: "check", summary: "report every problem of pipeline specs at once, as run would find them",
            details: """
            Keys, items file, instruction files, agent and validator programs, files named by validators, \
            templates, run names used twice; exit 0 when clean, 1 otherwise. With --prompt PHASE BATCH PIPELINE: \
            print the prompt attempt 1 of that batch would get, from the items or the merged main files under \
            --root; spawns and writes nothing.
            """,
            arguments: [ArgumentSpec(name: "PIPELINE", summary: "pipeline spec files (with --prompt: BATCH PIPELINE)",
                                     optional: true, repeating: true)],
            options: [
                .value("pipeline", .path, "FILE", "a pipeline spec, as an option", repeatable: true),
                .value("prompt", .string, "PHASE", "print the first prompt of a batch of PHASE instead (then give BATCH PIPELINE)"),
                .json,
                .root,
            ],
            examples: ["agent-watcher check course.json", "agent-watcher check --prompt 3 7 course.json"],
            main: CheckCommand.main),
        CommandSpec(
            name: "status", summary: "per run and phase: batches merged, running, retrying, failed, pending, and an ETA",
            details: "From the event log, daemon running or not. --watch: a live view (plain lines on every change when stdout is not a terminal).",
            options: [
                .flag("watch", short: "w", "a live view, redrawn when the log or the pid file changes (at most 10 times a second)"),
                .json,
                .flag("check", "exit 2 when a run has failed or blocked batches, or no daemon runs while a run is incomplete"),
                .root,
            ],
            examples: ["agent-watcher status", "agent-watcher status --watch", "agent-watcher status --json | jq '.runs[].phases[]'",
                       "agent-watcher status --check || echo 'needs attention'"],
            main: StatusCommand.main),
        CommandSpec(
            name: "list", summary: "runs and their state, one line each",
            options: [
                .json,
                .flag("check", "exit 2 when a run has failed or blocked batches, or no daemon runs while a run is incomplete"),
                .root,
            ],
            examples: ["agent-watcher list", "agent-watcher list --check"], main: ListCommand.main),
        CommandSpec(
            name: "show", summary: "every batch of a run; or every attempt of one batch: times, exit status, errors, agent log; or a thread",
            arguments: [ArgumentSpec(name: "RUN", summary: "the run's name (the spec's \"run\")", optional: true),
                        ArgumentSpec(name: "PHASE", summary: "a phase id", optional: true),
                        ArgumentSpec(name: "BATCH", summary: "a batch number", optional: true)],
            options: [.value("lines", .int, "N", "agent log lines to show per attempt", default: "10"), .json, .root,
                      .value("thread", .string, "ID", "the thread holding message ID: its messages and responder turns (no RUN)")],
            examples: ["agent-watcher show spa_for_eng", "agent-watcher show spa_for_eng 3 7", "agent-watcher show spa_for_eng 3 7 --json",
                       "agent-watcher show --thread q-17"],
            main: ShowCommand.main),
        CommandSpec(
            name: "pause", summary: "no new agents for RUN while paused; running ones finish",
            arguments: [run], options: [.root], examples: ["agent-watcher pause spa_for_eng"],
            main: ControlCommands.handler(.pause)),
        CommandSpec(
            name: "resume", summary: "let a paused run spawn agents again (or a paused responder answer again)",
            arguments: [ArgumentSpec(name: "RUN", summary: "the run's name (the spec's \"run\")", optional: true)],
            options: [.root, .flag("force", "go on past the run's budget (until the spec's budget changes)"),
                      .value("responder", .string, "NAME", "resume this responder, paused after failed turns in a row (no RUN)")],
            examples: ["agent-watcher resume spa_for_eng", "agent-watcher resume spa_for_eng --force",
                       "agent-watcher resume --responder reviewer"],
            main: ControlCommands.handler(.resume)),
        CommandSpec(
            name: "retry", summary: "re-queue a failed, blocked or cancelled batch (and the dependants it blocked, or that were cancelled or skipped with it)",
            details: """
            With --rebuild and no BATCH: re-merge every accepted batch file of PHASE (mailbox/RUN/accepted/), \
            in batch order, into a new main file; the old one is kept aside as <file>.before-rebuild (never \
            deleted), and a run paused with main_file_changed goes on.
            """,
            arguments: [run, phase, ArgumentSpec(name: "BATCH", summary: "a batch number, 1 for the first (not with --rebuild)", optional: true)],
            options: [.root, .flag("rebuild", "re-merge the phase's accepted batch files into a new main file, keeping the old one aside")],
            examples: ["agent-watcher retry spa_for_eng 3 7", "agent-watcher retry spa_for_eng 3 --rebuild"],
            main: ControlCommands.handler(.retry)),
        CommandSpec(
            name: "skip", summary: "give up on a batch that is not running (pending, waiting to retry, failed, blocked, cancelled): its dependants run with what exists",
            arguments: [run, phase, batch], options: [.root], examples: ["agent-watcher skip spa_for_eng 3 7"],
            main: ControlCommands.handler(.skip)),
        CommandSpec(
            name: "cancel", summary: "stop a batch's (or a whole run's) agents and mark the batches cancelled; or end a thread of turns",
            arguments: [ArgumentSpec(name: "RUN", summary: "the run's name (the spec's \"run\")", optional: true),
                        ArgumentSpec(name: "PHASE", summary: "a phase id", optional: true),
                        ArgumentSpec(name: "BATCH", summary: "a batch number", optional: true)],
            options: [.root, .value("thread", .string, "ID", "stop the thread's running responder turn and end the thread (no RUN)")],
            examples: ["agent-watcher cancel spa_for_eng", "agent-watcher cancel spa_for_eng 3 7", "agent-watcher cancel --thread q-17"],
            main: ControlCommands.handler(.cancel)),
        CommandSpec(
            name: "drain", summary: "re-queue failed batches in priority order",
            details: """
            Order: no recorded reason, agent crash / missing output, validation failure, timeout; then lower \
            phase, fewer attempts. A batch whose last two attempts failed with the same error is held back \
            unless --force. --dry-run prints the order only and changes nothing. Unless --no-wait, drain waits \
            until every re-queued batch has ended, or the run paused (any reason) with none of them in flight \
            (the rest count as not done), prints processed, succeeded, failed, not done, the pause, the success \
            rate, the results by run and phase and each failed batch's last error, and writes the same as JSON \
            to logs/drains/<drain-id>.json (drain.started carries the id). Exit 0 when every re-queued batch \
            merged, 2 when some failed again or are not done.
            """,
            arguments: [ArgumentSpec(name: "RUN", summary: "the run to drain (or --all)", optional: true)],
            options: [
                .flag("all", "drain every run on the root (each run in its own priority order: slots are per run)"),
                .flag("dry-run", "print the order a drain would use; change nothing"),
                .value("max", .int, "N", "re-queue at most N batches per run"),
                .flag("force", "also re-queue batches that failed twice with the same error"),
                .flag("no-wait", "return once the daemon applied the drain; no summary"),
                .value("report", .string, "ID", "print the summary of an earlier drain (logs/drains/ID.json)"),
                .flag("json", "with --report: print the report's JSON"),
                .root,
            ],
            examples: ["agent-watcher drain spa_for_eng --dry-run", "agent-watcher drain spa_for_eng --max 5",
                       "agent-watcher drain --all --no-wait", "agent-watcher drain --report drain-20261202180500123456-4242"],
            main: DrainCommand.main),
        CommandSpec(
            name: "stop", summary: "ask the running daemon to shut down and wait until it has",
            options: [
                .value("agents", .choice(["kill", "leave"]), "kill|leave", "stop the daemon's agents, or leave them running", default: "kill"),
                .value("timeout", .int, "SECONDS", "how long to wait for the daemon to stop", default: "60"),
                .root,
            ],
            examples: ["agent-watcher stop", "agent-watcher stop --agents=leave"],
            main: StopCommand.main),
        CommandSpec(
            name: "tail", summary: "the event log as readable lines (or raw JSONL)",
            options: [
                .value("lines", short: "n", .int, "N", "only the last N records (that pass the filters)", default: "the whole log; 10 with -f"),
                .flag("follow", short: "f", "then keep printing records as they are logged"),
                .flag("json", "print the raw JSON lines"),
                .value("run", .string, "RUN", "only this run's records"),
                .value("event", .string, "NAME", "only this event (batch matches batch.transition and other batch.* events)"),
                .value("batch", .string, "PHASE/K", "only this batch's records"),
                .value("since", .string, "TIME", "only records at or after TIME: an ISO 8601 UTC prefix (2026-11-21T08:00) or 30s, 10m, 2h, 1d ago"),
                .root,
            ],
            examples: ["agent-watcher tail -n 20", "agent-watcher tail -f", "agent-watcher tail --json --run spa_for_eng | jq .",
                       "agent-watcher tail --batch 3/7 --since 1h"],
            main: TailCommand.main),
        CommandSpec(
            name: "send", summary: "drop a message for an agent into mailbox/agents/NAME/ and print its id (or, with --wait, its reply)",
            details: "Types: request, response, handoff, feedback, query, context, discussion, batch.done, error (to 'watcher'). No daemon is needed.",
            options: [
                .value("to", .string, "NAME", "the recipient", required: true),
                .value("type", .string, "TYPE", "the message type", required: true),
                .value("body", .string, "JSON", "the body, as JSON text"),
                .value("body-file", .path, "FILE", "the body from a file; - for standard input"),
                .value("reply-to", .string, "ID", "the message this answers"),
                .value("from", .string, "NAME", "the sender", default: "<run>-<phase>-<batch> inside an agent, else $USER"),
                .value("run", .string, "RUN", "the batch it concerns", default: "$AGENT_WATCHER_RUN"),
                .value("phase", .string, "PHASE", "the batch it concerns", default: "$AGENT_WATCHER_PHASE"),
                .value("batch", .int, "K", "the batch it concerns", default: "$AGENT_WATCHER_BATCH"),
                .value("id", .string, "ID", "the message id", default: "a fresh unique id"),
                .flag("wait", "then wait for the reply (in the sender's maildir), print its body, file it in cur/: exit 0, 3 for an error reply, 2 on timeout"),
                .value("timeout", .string, "SECONDS", "with --wait: give up after this long (exit 2)", default: "no limit"),
                .root,
            ],
            examples: ["agent-watcher send --to bob --type request --body '{\"q\":\"why?\"}'",
                       "agent-watcher send --to reviewer --type query --body '{\"seed\":\"S0003\"}' --wait --timeout 300",
                       "echo '{}' | agent-watcher send --to bob --type context --body-file -"],
            main: SendCommand.main),
        CommandSpec(
            name: "messages", summary: "agent messages as conversation threads, with their delivery state",
            options: [
                .value("to", .string, "NAME", "only threads with messages to NAME"),
                .value("thread", .string, "ID", "only the thread holding message ID"),
                .flag("follow", short: "f", "then print new message records as they are logged"),
                .json,
                .root,
            ],
            examples: ["agent-watcher messages", "agent-watcher messages --thread q-2 -f"],
            main: MessagesCommand.main),
        CommandSpec(
            name: "dashboard", summary: "serve the live web dashboard of a root (a reader: the daemon may run or not)",
            details: """
            Prints its URL with the session token (also in logs/dashboard.token, mode 0600). Listens on \
            loopback; another address needs --allow-remote. State changes are POSTs that drop control \
            messages, as the CLI does.
            """,
            options: [
                .root,
                .value("listen", .string, "ADDR", "address and port to listen on", default: "127.0.0.1:8765"),
                .flag("allow-remote", "allow a listen address other than loopback"),
                .value("header-timeout-ms", .int, "MS", "cut a client whose request is not whole by then (tests)", default: "10000"),
                .value("max-connections", .int, "N", "refuse connections past this many (tests)", default: "128"),
                .value("max-streams", .int, "N", "refuse live streams (/api/stream, /api/log) past this many", default: "32"),
            ],
            examples: ["agent-watcher dashboard", "agent-watcher dashboard --root /srv/courses --listen 127.0.0.1:9000"],
            main: DashboardCommand.main),
        CommandSpec(
            name: "completion", summary: "print a shell completion script (bash, zsh or fish)",
            arguments: [ArgumentSpec(name: "SHELL", summary: "bash, zsh or fish")],
            examples: ["agent-watcher completion bash > ~/.local/share/bash-completion/completions/agent-watcher",
                       "agent-watcher completion fish > ~/.config/fish/completions/agent-watcher.fish"],
            main: CompletionCommand.main),
        CommandSpec(
            name: "help", summary: "this help, or one command's help",
            arguments: [ArgumentSpec(name: "COMMAND", summary: "a command", optional: true)],
            examples: ["agent-watcher help status"],
            main: HelpText.helpCommand),
        CommandSpec(
            name: "commands", summary: "every command's name, one a line (for scripts)",
            main: { _ in for c in all { Console.out(c.name) }; return 0 }),
        CommandSpec(
            name: "simulate-agent", summary: "the demo's simulated agent (used by the demo pipeline)",
            options: [
                .value("answers", .path, "FILE", "the answers file", required: true),
                .value("items", .path, "FILE", "the items file", required: true),
                .value("phase", .string, "PHASE", "the phase", required: true),
                .value("batch", .int, "K", "the batch", default: "1"),
                .value("start", .int, "N", "first item position", default: "1"),
                .value("end", .int, "N", "last item position", default: "1"),
                .value("attempt", .int, "N", "the attempt", default: "1"),
                .value("output", .path, "FILE", "where to write the batch file", required: true),
                .value("seed", .int, "N", "the random seed", default: "0"),
            ],
            hidden: true,
            main: SimulateAgentCommand.main),
        CommandSpec(
            name: "simulate-reviewer", summary: "the demo's reviewer responder: answers a question about a seed on stdout",
            options: [.value("answers", .path, "FILE", "the phase-3 answers file", required: true)],
            hidden: true,
            main: SimulateReviewerCommand.main),
    ]
}
