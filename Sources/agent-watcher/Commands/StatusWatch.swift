import AgentWatcher
import Foundation
import Glibc
import WatcherCore
import WatcherSystem

/// `status --watch`: a live view redrawn in place on every log write (and once a second for
/// the elapsed times) when stdout is a terminal; plain status lines on every change otherwise.
struct StatusWatch {
    let layout: Layout

    func run() throws -> Int32 {
        let follower = try LogFollower(layout: layout, fromStart: true)
        var records: [EventRecord] = []
        let terminal = Console.isTerminal
        while true {
            let new = try follower.readNew().compactMap(\.record)
            records += new
            if terminal {
                Console.write("\u{1B}[H\u{1B}[2J" + screen(records) + "\n", to: 1)
            } else if !new.isEmpty || records.isEmpty {
                Console.out(StatusCommand.render(StatusReport.build(records)))
                Console.out("")
            }
            // A terminal view ticks each second for the elapsed times; a pipe waits for writes only.
            if try follower.waitForWrite(timeoutMilliseconds: terminal ? 1000 : -1) { continue }
        }
    }

    func screen(_ records: [EventRecord]) -> String {
        let (s, us) = Clock.realtime()
        let now = Double(s) + Double(us) / 1e6
        var out = "agent-watcher  \(layout.root)  \(StatusCommand.daemonLine(layout))  \(Clock.iso8601(seconds: s, microseconds: 0).prefix(19))Z\n\n"
        let report = StatusReport.build(records)
        let state = StatusReport.replay(records)
        var since: [BatchID: Double] = [:]
        for r in records where r.event.event == EventName.transition && r.event.to == BatchState.spawning.rawValue {
            if let id = r.event.batchID, let t = EventFormatter.seconds(r.ts) { since[id] = t }
        }
        for run in report.runs {
            var head = "run \(run.run)"
            if run.completed { head += "  completed" } else if run.paused { head += "  PAUSED (\(run.pauseReason ?? "operator"))" }
            head += "  retries \(run.retries)"
            if let eta = run.etaSeconds, !run.completed, !run.paused, run.remainingBatches > 0 { head += "  ETA \(StatusCommand.duration(eta))" }
            out += head + "\n"
            for p in run.phases {
                let done = p.count(.merged) + p.count(.skipped)
                let width = 30
                let filled = p.total == 0 ? 0 : done * width / p.total
                out += "  phase \(p.phase.padding(toLength: 6, withPad: " ", startingAt: 0)) ["
                out += String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
                out += "\(done)/\(p.total)  running \(p.running)  retrying \(p.count(.retryWait))  failed \(p.count(.failed))"
                if p.count(.blocked) > 0 { out += "  blocked \(p.count(.blocked))" }
                out += "\n"
            }
            let active = state.batches.values.filter { $0.id.run == run.run && $0.state.isActive }.sorted { $0.id < $1.id }
            for b in active {
                let elapsed = since[b.id].map { StatusCommand.duration(max(0, now - $0)) } ?? "?"
                out += "    \(b.id.phase)/\(b.id.index) attempt \(b.attempt)  \(b.state.rawValue)  \(elapsed)"
                out += b.pid.map { "  pid \($0)" } ?? ""
                out += "\n"
            }
            out += "\n"
        }
        return out + "(Ctrl-C to quit)"
    }
}
