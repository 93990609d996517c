enum Usage {
    static let text = """
    agent-watcher: runs LLM-agent batch jobs unattended. Agents write batch files into mailbox
    folders; the watcher validates each one the moment it is complete, merges it into the run's
    main output file, and spawns the next agent, or retries with the errors in the prompt.
    Every state change is one JSON line in logs/events.jsonl.

    USAGE
      agent-watcher demo [--root DIR] [--seed N] [--quiet]
          The built-in three-phase course pipeline with simulated agents, in a fresh folder.
      agent-watcher run --pipeline FILE [--pipeline FILE ...] [--root DIR]
          Run the daemon in the foreground. Ctrl-C / SIGTERM stops it cleanly; SIGHUP re-reads specs.
      agent-watcher status [--root DIR]
          Per run and phase: batches merged / running / retrying / failed / pending, and an ETA.
      agent-watcher tail [-f] [--json] [--run RUN] [--root DIR]
          The event log as readable lines (or raw JSONL); -f follows it.
      agent-watcher send --to NAME --type TYPE [--body JSON | --body-file F] [--reply-to ID] [--from NAME]
                         [--run R --phase P --batch K] [--id ID] [--root DIR]
          Drop a message for agent NAME into mailbox/agents/NAME/ (tmp/ then new/); prints its id.
          Types: request, response, handoff, feedback, query, context, batch.done (to 'watcher').
      agent-watcher messages [--to NAME] [--thread ID] [-f] [--root DIR]
          Agent messages as conversation threads, with their delivery state; -f follows new ones.
      agent-watcher simulate-agent ...
          The demo's simulated agent (used by the demo pipeline).

    --root defaults to the current folder: mailbox/ and logs/ live there.
    Exit codes: 0 done, 1 failed, 64 usage error.
    """
}
