import AgentWatcher
import WatcherCore

/// The foreground `run`'s output: one line per record worth attention (the demo's format,
/// `EventFormatter.attention`) and, after each merge, that phase's progress line.
final class ProgressPrinter {
    let quiet: Bool
    private var records: [EventRecord] = []

    init(quiet: Bool) { self.quiet = quiet }

    func observe(_ r: EventRecord) {
        guard !quiet else { return }
        records.append(r)
        guard let line = EventFormatter.attention(r) else { return }
        Console.out(line)
        guard r.event.event == EventName.transition, r.event.to == BatchState.merged.rawValue, let id = r.event.batchID,
              let t = EventFormatter.seconds(r.ts) else { return }
        let report = StatusReport.build(records, daemonRunning: true, now: t)
        guard let run = report.runs.first(where: { $0.run == id.run }), let p = run.phases.first(where: { $0.phase == id.phase }) else { return }
        Console.out("  progress \(id.run) phase \(id.phase): "
                    + StatusText.progress(done: p.done, total: p.total, elapsed: p.elapsedSeconds, remaining: p.remainingSeconds)
                    + "; run: " + StatusText.progress(done: run.done, total: run.total, elapsed: run.elapsedSeconds, remaining: run.etaSeconds))
    }
}
