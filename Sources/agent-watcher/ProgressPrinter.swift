import AgentWatcher
import WatcherCore
import WatcherSystem

/// The foreground `run`'s output: one line per record worth attention (the demo's format,
/// `EventFormatter.attention`) and, after a merge, that phase's and run's progress line. It runs
/// inside the daemon's loop, so on a long log (whose report takes a while to build) progress is
/// printed at most once per 20 times the last build's cost once that exceeds 5 ms.
final class ProgressPrinter {
    let quiet: Bool
    /// The batches' times folded from the log so far (the batches themselves are the daemon's state).
    private var fold = StatusFold(foldingState: false)
    private let state: () -> WatcherState
    private var nextProgress: UInt64 = 0

    init(quiet: Bool, state: @escaping () -> WatcherState) {
        self.quiet = quiet
        self.state = state
    }

    /// A record of the log as it was before this daemon started (a restart carries on a run),
    /// handed over by the daemon's replay.
    func replayed(_ r: EventRecord) {
        guard !quiet else { return }
        fold.add(r)
    }

    func observe(_ r: EventRecord) {
        guard !quiet else { return }
        fold.add(r)
        guard let line = EventFormatter.attention(r) else { return }
        Console.out(line)
        guard r.event.event == EventName.transition, r.event.to == BatchState.merged.rawValue, let id = r.event.batchID,
              let t = EventFormatter.seconds(r.ts) else { return }
        let started = Clock.monotonicNanoseconds()
        guard started >= nextProgress else { return }
        let report = fold.report(of: state(), daemonRunning: true, now: t)
        let cost = Clock.monotonicNanoseconds() - started
        nextProgress = cost > 5_000_000 ? started + 20 * cost : 0 // a short log: after every merge
        guard let run = report.runs.first(where: { $0.run == id.run }), let p = run.phases.first(where: { $0.phase == id.phase }) else { return }
        Console.out("  progress \(id.run) phase \(id.phase): "
                    + StatusText.progress(done: p.done, total: p.total, elapsed: p.elapsedSeconds, remaining: p.remainingSeconds)
                    + "; run: " + StatusText.progress(done: run.done, total: run.total, elapsed: run.elapsedSeconds, remaining: run.etaSeconds))
    }
}
