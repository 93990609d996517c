import AgentWatcher
import Foundation
import Glibc
import WatcherCore
import WatcherSystem

/// `status --watch`: a live view redrawn in place when the event log or the pid file changes
/// (at most 10 times a second) when stdout is a terminal; plain status lines on every change
/// otherwise. It sleeps in poll() on inotify between changes: no CPU while nothing happens.
/// A reader: it takes no lock and writes no file.
struct StatusWatch {
    let layout: Layout
    static let minimumRedrawNanoseconds: UInt64 = 100_000_000

    func run() throws -> Int32 {
        let follower = try LogFollower(layout: layout, fromStart: true, onlyLogAndPid: true)
        let client = ControlClient(layout: layout)
        var records: [EventRecord] = []
        let terminal = Console.isTerminal
        var lastDraw: UInt64 = 0
        var drawCost: UInt64 = 0
        var first = true
        while true {
            // Rate limit: a burst of writes is drawn at most once per 100 ms, and (on a long log,
            // whose report takes a while to build) at most a third of the time is spent drawing.
            let next = lastDraw + max(Self.minimumRedrawNanoseconds, 2 * drawCost)
            let now = Clock.monotonicNanoseconds()
            if !first, now < next { _ = try Poller.wait([], timeoutMilliseconds: Int32((next - now) / 1_000_000) + 1) }
            lastDraw = Clock.monotonicNanoseconds()
            let new = try follower.readNew().compactMap(\.record)
            records += new
            let pid = try client.runningDaemon()
            let report = StatusReport.build(records, daemonRunning: pid != nil, now: StatusCommand.now())
            if terminal {
                Console.write("\u{1B}[H\u{1B}[2J" + screen(report, records: records, pid: pid) + "\n", to: 1)
            } else if !new.isEmpty || first {
                Console.out(StatusText.daemonLine(pid))
                Console.out(StatusText.render(report))
                Console.out("")
            }
            first = false
            drawCost = Clock.monotonicNanoseconds() - lastDraw
            _ = try follower.waitForWrite(timeoutMilliseconds: -1)
        }
    }

    func screen(_ report: StatusReport, records: [EventRecord], pid: Int32?) -> String {
        let (s, _) = Clock.realtime()
        var out = "agent-watcher  \(layout.root)  \(StatusText.daemonLine(pid))  \(Clock.iso8601(seconds: s, microseconds: 0).prefix(19))Z\n\n"
        let state = StatusReport.replay(records)
        var since: [BatchID: String] = [:]
        for r in records where r.event.event == EventName.transition && r.event.to == BatchState.spawning.rawValue {
            if let id = r.event.batchID { since[id] = String(r.ts.dropFirst(11).prefix(8)) }
        }
        for run in report.runs {
            var head = "run \(run.run)"
            if run.completed { head += "  completed" } else if run.paused { head += "  PAUSED (\(run.pauseReason ?? "operator"))" }
            head += "  retries \(run.retries)"
            out += head + "\n  " + StatusText.progress(done: run.done, total: run.total, elapsed: run.elapsedSeconds,
                                                        remaining: run.etaSeconds) + "\n"
            let width = max(6, run.phases.map(\.phase.count).max() ?? 0)
            for p in run.phases {
                let barWidth = 30
                let filled = p.total == 0 ? 0 : p.done * barWidth / p.total
                out += "  phase \(p.phase.padding(toLength: width, withPad: " ", startingAt: 0)) ["
                out += String(repeating: "#", count: filled) + String(repeating: "-", count: barWidth - filled) + "] "
                out += "\(p.done)/\(p.total)  running \(p.running)  retrying \(p.count(.retryWait))  failed \(p.count(.failed))"
                if p.count(.blocked) > 0 { out += "  blocked \(p.count(.blocked))" }
                if p.interrupted > 0 { out += "  interrupted \(p.interrupted)" }
                out += "\n"
            }
            guard report.daemonRunning else { out += "\n"; continue }
            let active = state.batches.values.filter { $0.id.run == run.run && $0.state.isActive }.sorted { $0.id < $1.id }
            for b in active {
                out += "    \(b.id.phase)/\(b.id.index) attempt \(b.attempt)  \(b.state.rawValue)  since \(since[b.id] ?? "?")"
                out += b.pid.map { "  pid \($0)" } ?? ""
                out += "\n"
            }
            out += "\n"
        }
        return out + "(Ctrl-C to quit)"
    }
}
