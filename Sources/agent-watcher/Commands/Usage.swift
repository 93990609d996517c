enum Usage {
    static let text = """
    agent-watcher: runs LLM-agent batch jobs unattended. Agents write batch files into mailbox
    folders; the watcher validates each one the moment it is complete, merges it into the run's
    main output file, and spawns the next agent, or retries with the errors in the prompt.
    Every state change is one JSON line in logs/events.jsonl.

    USAGE
      agent-watcher demo [--root DIR] [--seed N] [--quiet]
          The built-in three-phase course pipeline with simulated agents, in a fresh folder.
      agent-watcher run --pipeline FILE [--pipeline FILE ...] [--root DIR] [--daemon]
          Run the daemon in the foreground (Ctrl-C / SIGTERM stops it cleanly; SIGHUP re-reads specs),
          or with --daemon detached (output in logs/watcher.log, pid in logs/watcher.pid): returns once
          it is watching and prints its pid.
      agent-watcher check PIPELINE... | check --prompt PHASE BATCH PIPELINE [--root DIR]
          Report every problem of the pipeline specs at once, as run would find them (keys, items file,
          instruction files, agent and validator programs, files named by validators, templates, run
          names used twice); exit 0 when clean. With --prompt: print the prompt attempt 1 of that batch
          would get, from the items or the merged main files under --root; spawns and writes nothing.
      agent-watcher stop [--agents=kill|leave] [--root DIR]
          Ask the running daemon to shut down and wait until it has; its agents are stopped (kill,
          the default) or left running (leave).
      agent-watcher status [--watch] [--root DIR]
          Per run and phase: batches merged / running / retrying / failed / pending, and an ETA.
          --watch: a live view (plain lines on every change when stdout is not a terminal).
      agent-watcher list [--root DIR]
          Runs and their state, one line each.
      agent-watcher show RUN [PHASE BATCH] [--lines N] [--root DIR]
          Every batch of a run; or every attempt of one batch: times, exit status, errors, agent log.
      agent-watcher pause RUN | resume RUN [--force]   (--force: go on past the run's budget)
          No new agents for RUN while paused; running ones finish.
      agent-watcher retry RUN PHASE BATCH | skip RUN PHASE BATCH | cancel RUN [PHASE BATCH]
          Re-queue a failed/blocked/cancelled batch; give up on a batch (its dependants run with what
          exists); stop a batch's (or a whole run's) agents and mark the batches cancelled.
      agent-watcher drain RUN [--dry-run] [--max N] [--force]
          Re-queue failed batches in priority order: no recorded reason, agent crash / missing output,
          validation failure, timeout; then lower phase, fewer attempts. A batch whose last two attempts
          failed with the same error is held back unless --force. --dry-run prints the order only.
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

    State-changing commands (stop, pause, resume, retry, skip, cancel, drain) are carried out by the
    daemon: the CLI drops a control message into mailbox/control/ and reports the daemon's answer
    from the event log. Without a running daemon they say so and exit 1.
    --root defaults to the current folder: mailbox/ and logs/ live there.
    Exit codes: 0 done, 1 failed, 64 usage error.
    """
}
