// watcher-bench: agent-watcher against the tools people would use instead (issue 5).
//
//   swift build -c release --scratch-path .build-bench
//   .build-bench/release/watcher-bench [--quick] [--report FILE] [scenario...]
//
// Scenarios: 1 detect, 2 spawn, 3 merge, 4 throughput, 5 recovery, 6 idle, 7 makespan, 8 dashboard (default: all).
// Benchmarks/run.sh builds, installs the peers (Benchmarks/setup.sh) and writes BENCHMARKS.md.
import Glibc
import WatcherSystem

let usage = """
    usage: watcher-bench [options] [scenario...]
      scenarios: 1|detect 2|spawn 3|merge 4|throughput 5|recovery 6|idle 7|makespan 8|dashboard (default: all)
      --quick             the short variant of every scenario (about 2 minutes in all)
      --report FILE       also write the Markdown report to FILE (e.g. BENCHMARKS.md)
      --agent-watcher P   the agent-watcher binary (default: beside this one)
      --work DIR          scratch folder (default: $TMPDIR or /tmp, watcher-bench-<pid>)
      --fixtures DIR      the course data (default: ../shared/fixtures/ssi-spa_for_eng from the repo)
      --no-tmpfs          skip the extra rows with the daemon's root on /dev/shm
      --keep              keep the scratch folders
      --gen-demo DIR      write the demo pipeline (seeds, answers, instructions, pipeline.json) for the whole
                          course into DIR, for `agent-watcher run --pipeline DIR/pipeline.json`, and exit
    """

struct Options {
    var quick = false, keep = false, tmpfs = true
    var reportPath: String?, watcherPath: String?, workPath: String?, fixturesPath: String?, genDemo: String?
    var wanted: [Int] = []

    static func parse(_ arguments: [String]) -> Options {
        var o = Options()
        var args = arguments
        let names = ["detect": 1, "spawn": 2, "merge": 3, "throughput": 4, "recovery": 5, "idle": 6, "makespan": 7, "dashboard": 8]
        func value(_ flag: String) -> String {
            guard !args.isEmpty else { Out.err("watcher-bench: \(flag) needs a value\n" + usage); exit(64) }
            return args.removeFirst()
        }
        while !args.isEmpty {
            let a = args.removeFirst()
            switch a {
            case "--quick": o.quick = true
            case "--keep": o.keep = true
            case "--no-tmpfs": o.tmpfs = false
            case "--report": o.reportPath = value(a)
            case "--agent-watcher": o.watcherPath = value(a)
            case "--work": o.workPath = value(a)
            case "--fixtures": o.fixturesPath = value(a)
            case "--gen-demo": o.genDemo = value(a)
            case "-h", "--help", "help": Out.line(usage); exit(0)
            default:
                if let n = Int(a), (1...8).contains(n) { o.wanted.append(n) } else if let n = names[a] { o.wanted.append(n) } else {
                    Out.err("watcher-bench: unknown argument '\(a)'\n" + usage)
                    exit(64)
                }
            }
        }
        if o.wanted.isEmpty { o.wanted = Array(1...8) }
        return o
    }
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let quick = options.quick, keep = options.keep, tmpfs = options.tmpfs, wanted = options.wanted
let reportPath = options.reportPath, watcherPath = options.watcherPath, workPath = options.workPath
let fixturesPath = options.fixturesPath, genDemo = options.genDemo

func absolute(_ p: String) -> String {
    if p.hasPrefix("/") { return p }
    var buf = [CChar](repeating: 0, count: 4096)
    return String(cString: getcwd(&buf, buf.count)) + "/" + p
}

/// The repository: the folder above the build folder that holds Package.swift and Benchmarks/peers.
func findRepo() -> String? {
    var starts: [String] = []
    if let exe = try? FileSystem.executablePath() { starts.append(exe) }
    starts.append(absolute("."))
    for start in starts {
        var dir = start
        while dir.count > 1 {
            if FileSystem.exists(dir + "/Package.swift") && FileSystem.exists(dir + "/Benchmarks/peers") { return dir }
            guard let slash = dir.lastIndex(of: "/") else { break }
            dir = slash == dir.startIndex ? "/" : String(dir[..<slash])
        }
    }
    return nil
}

guard let repo = findRepo() else {
    Out.err("watcher-bench: cannot find the repository (Package.swift and Benchmarks/peers) above the binary or the current folder")
    exit(1)
}
let fixtures: String? = {
    if let f = fixturesPath { return absolute(f) }
    let f = repo + "/../shared/fixtures/ssi-spa_for_eng"
    return FileSystem.exists(f + "/lego_pairs.json") ? ((try? FileSystem.realPath(f)) ?? f) : nil
}()

if let dir = genDemo {
    do {
        try DemoGenerator.write(into: absolute(dir), fixtures: fixtures, scratch: absolute(dir) + "/.scratch")
        exit(0)
    } catch {
        Out.err("watcher-bench: --gen-demo: \(error)")
        exit(1)
    }
}

let exeDir: String = {
    guard let exe = try? FileSystem.executablePath(), let slash = exe.lastIndex(of: "/") else { return "." }
    return String(exe[..<slash])
}()
let watcherBinary = absolute(watcherPath ?? exeDir + "/agent-watcher")
guard FileSystem.exists(watcherBinary) else {
    Out.err("watcher-bench: \(watcherBinary) not found: build it first (swift build -c release --scratch-path .build-bench), or pass --agent-watcher")
    exit(1)
}
/// `swift run watcher-bench` builds only the harness: say so when the daemon binary is older than its sources.
func newestSource(_ dir: String) -> Int {
    var newest = 0
    for e in (try? FileSystem.listDirectory(dir)) ?? [] {
        let path = dir + "/" + e.name
        if e.kind == .directory { newest = max(newest, newestSource(path)) }
        else if e.name.hasSuffix(".swift"), let st = try? FileSystem.stat(path) { newest = max(newest, st.mtime.seconds) }
    }
    return newest
}
if let built = try? FileSystem.stat(watcherBinary), built.mtime.seconds < newestSource(repo + "/Sources") {
    Out.err("watcher-bench: warning: \(watcherBinary) is older than Sources/: rebuild it (swift build -c release --scratch-path .build-bench) to measure the current code")
}
let env = SpawnRequest.currentEnvironment()
let work = absolute(workPath ?? (env["TMPDIR"] ?? "/tmp") + "/watcher-bench-\(getpid())")

installInterruptCleanup()
let bench: Bench
do {
    bench = try Bench(quick: quick, repo: repo, watcherBinary: watcherBinary, work: work, fixtures: fixtures, keep: keep, tmpfs: tmpfs)
} catch {
    Out.err("watcher-bench: \(error)")
    exit(1)
}
bench.preparePeers()
let started = Now.mono()
let startedDate = Clock.nowISO8601()
let commitAtStart = Machine.commit(repo: repo)
bench.log("watcher-bench: \(quick ? "quick" : "full") run of scenario(s) \(wanted.map(String.init).joined(separator: ", ")); scratch \(work)")
for (peer, why) in bench.skipped { bench.log("watcher-bench: skipping \(peer): \(why)") }

let course: Course? = {
    guard wanted.contains(where: { [2, 3, 7].contains($0) }) else { return nil }
    do { return try Course.load(fixtures: fixtures, scratch: work) } catch {
        bench.log("watcher-bench: cannot load the course data: \(error)")
        return nil
    }
}()

for n in wanted {
    switch n {
    case 1: DetectScenario(bench: bench).run()
    case 2: SpawnScenario(bench: bench, course: course).run()
    case 3: MergeScenario(bench: bench, course: course).run()
    case 4: ThroughputScenario(bench: bench).run()
    case 5: RecoveryScenario(bench: bench).run()
    case 6: IdleScenario(bench: bench).run()
    case 7: MakespanScenario(bench: bench, course: course).run()
    case 8: DashboardScenario(bench: bench).run()
    default: break
    }
}

let sync = Machine.syncProbe(work)
bench.report.header = ReportHeader.lines(bench: bench, date: startedDate, commit: commitAtStart, seconds: Now.mono() - started, sync: sync,
                                         course: course, scenarios: wanted)
bench.report.footer = ReportHeader.footer
if let reportPath {
    do {
        try Files.write(absolute(reportPath), bench.report.markdown())
        bench.log("watcher-bench: wrote \(reportPath)")
    } catch {
        Out.err("watcher-bench: cannot write \(reportPath): \(error)")
    }
}
if !keep {
    Files.remove(work)
    if let t = bench.tmpfsWork { Files.remove(t) }
}
bench.log("watcher-bench: done in \(fmtS(Now.mono() - started))")
