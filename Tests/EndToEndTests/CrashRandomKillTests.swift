import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import WatcherSystem

extension CrashSafety {
    /// `kill -9` of the daemon at random moments of one run: each life is killed after a
    /// random number of new log lines (a seeded schedule; `AW_CRASH_SEED=<n>` replays another),
    /// restarted at once, and the last life finishes the run. The outputs must equal an
    /// uninterrupted run's, and no restart may lose or invent an attempt.
    @Suite("Random SIGKILLs across one run")
    struct CrashRandomKillTests {
        /// How the agents write their outputs.
        struct AgentKind: Sendable, CustomTestStringConvertible {
            var name: String
            var body: String
            /// The output is never seen half-written, so an attempt can only fail by a restart.
            var atomic: Bool
            var agentsOnRestart: String? = nil
            var testDescription: String { name }
        }

        static let agentKinds = [
            AgentKind(name: "renames its output into place", body: CrashPipeline().agentBody, atomic: true),
            // Two writes 150 ms apart (more than the 50 ms settle window, so the daemon sees the half file
            // while the agent runs); a kill can leave half a file.
            AgentKind(name: "writes its output in place, in two parts", body: """
                      object_batch "$start" "$end" > "work-$$.json"
                      head -c 24 "work-$$.json" > "$out"
                      sleep 0.15
                      tail -c +25 "work-$$.json" >> "$out"
                      rm -f "work-$$.json"
                      """, atomic: false),
            // Slower, and kept across restarts instead of killed: a restart must never start a
            // second agent for an adopted attempt.
            AgentKind(name: "renames its output after 0.1 s, adopted across restarts", body: """
                      sleep 0.1
                      object_batch "$start" "$end" | publish "$out"
                      """, atomic: true, agentsOnRestart: "adopt"),
        ]

        /// 2 phases x 12 batches: long enough for 20+ kills whatever the timing (most runs reach
        /// the cap of 45 before the run completes).
        /// `maxAttempts` is above the most kills there can be, so that no batch can fail for good
        /// because of restarts alone and the outputs stay comparable.
        static func pipeline(_ agent: AgentKind) -> CrashPipeline {
            CrashPipeline(run: "kills", phases: 2, batches: 12, batchSize: 2, concurrency: 2, maxAttempts: 50, agentBody: agent.body,
                          agentsOnRestart: agent.agentsOnRestart)
        }

        static let maxKills = 45

        @Test("at least 20 SIGKILLs at random moments, then the same outputs as an uninterrupted run", arguments: agentKinds)
        func randomKills(_ agent: AgentKind) throws {
            let seed = ProcessInfo.processInfo.environment["AW_CRASH_SEED"].flatMap { UInt64($0) } ?? 20_261_121
            var rng = CrashRNG(seed: seed)
            let pipeline = Self.pipeline(agent)
            let reference = try CrashReference.outputs(pipeline)
            try withCrashHarness("random-kills", pipeline) { h in
                var killed = 0
                var schedule: [String] = []
                var finished: ChildProcess?
                while killed < Self.maxKills {
                    let log = try CrashLogFollower(h.eventLog) // anew each life: a restart may cut a torn tail
                    let base = log.lines.count
                    let daemon = try h.start()
                    let lines = Int.random(in: 1...12, using: &rng)
                    // (A life started after the run completed logs only a line or two: stop killing then.)
                    try log.wait("\(lines) new log lines", daemon: daemon, within: 20) {
                        $0.lines.count >= base + lines || $0.count(event: "run.completed") > 0
                    }
                    if log.count(event: "run.completed") > 0 {
                        try log.waitForStart(of: daemon)
                        finished = daemon
                        break
                    }
                    try h.kill9(daemon)
                    killed += 1
                    try log.refresh()
                    let merged = log.lines.filter { $0.contains("\"to\":\"merged\"") }.count
                    schedule.append("\(lines)→\(merged)")
                    CrashOrphans.reap()
                }
                print("random kills, agent \(agent.name) (seed \(seed)): \(killed) kills as 'lines waited→batches merged so far': \(schedule.joined(separator: " "))")
                h.check(killed >= 20, "only \(killed) kills before the run completed (seed \(seed)); make the pipeline longer")
                if finished == nil, try CrashLogFollower(h.eventLog).count(event: "run.completed") > 0 {
                    // The last killed life had completed the run: a new life only has to start (and recover).
                    let last = try h.start()
                    try CrashLogFollower(h.eventLog).waitForStart(of: last)
                    finished = last
                }
                if let finished { try h.stop(finished) } else { try h.runToCompletion() }

                h.checkEmpty(try crashInvariantProblems(h), "after \(killed) SIGKILLs (seed \(seed))")
                h.checkEmpty(try CrashOutputs(h).differences(from: reference), "outputs differ from the uninterrupted run (seed \(seed))")
                h.checkEmpty(attemptProblems(try h.records(), restarts: h.daemons.count - 1, maxAttempts: pipeline.maxAttempts,
                                             onlyRestartFailures: agent.atomic),
                             "attempt accounting after \(killed) SIGKILLs (seed \(seed))")
                let survivors = CrashProcs.living(withRoot: h.root)
                h.check(survivors.isEmpty, "processes of this root alive after the final stop: \(survivors)")
            }
        }

        /// The agents here always succeed when left alone, so every extra attempt must come from
        /// a restart: a batch's last attempt is 1 + its failed attempts (at most maxAttempts +
        /// restarts), each attempt is spawned (and runs) at most once, and with atomic outputs
        /// every failure says `watcher_restart` (a half-written file can fail validation instead).
        func attemptProblems(_ records: [LogRecord], restarts: Int, maxAttempts: Int, onlyRestartFailures: Bool) -> [String] {
            var problems: [String] = []
            var lastAttempt: [String: Int] = [:]
            var failures: [String: Int] = [:]
            var spawning: [String: Int] = [:]
            var running: [String: Int] = [:]
            for r in records where r.event == "batch.transition" {
                guard let phase = r.phase, let batch = r.batch, let attempt = r.attempt else { continue }
                let id = "\(phase)/\(batch)"
                lastAttempt[id] = max(lastAttempt[id] ?? 0, attempt)
                switch r.to {
                case "retry_wait", "failed":
                    failures[id, default: 0] += 1
                    if onlyRestartFailures && r.reason != "watcher_restart" { problems.append("\(id) attempt \(attempt) failed for another reason: \(r.line)") }
                case "spawning": spawning["\(id)#\(attempt)", default: 0] += 1
                case "running" where r.from == "spawning": running["\(id)#\(attempt)", default: 0] += 1
                default: break
                }
            }
            for (id, attempt) in lastAttempt.sorted(by: { $0.key < $1.key }) {
                if attempt > 1 + (failures[id] ?? 0) {
                    problems.append("\(id): attempt \(attempt) after only \(failures[id] ?? 0) failed attempts (an attempt was lost)")
                }
                if attempt > maxAttempts + restarts {
                    problems.append("\(id): attempt \(attempt) > maxAttempts \(maxAttempts) + restarts \(restarts)")
                }
            }
            for (key, n) in spawning where n > 1 { problems.append("\(key): \(n) '→ spawning' records for one attempt") }
            for (key, n) in running where n > 1 { problems.append("\(key): \(n) '→ running' records (agents) for one attempt") }
            return problems
        }
    }
}
