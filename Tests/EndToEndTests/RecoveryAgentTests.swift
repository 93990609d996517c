import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import WatcherSystem

extension CrashSafety {
    /// Agents that misbehave, and a daemon killed under running agents: no process of an
    /// agent's group may outlive its attempt, no zombie may pile up under the daemon, and the
    /// attempt count must stay right.
    @Suite("Recovery: agents, grandchildren, SIGTERM-deaf agents, a daemon killed under them")
    struct RecoveryAgentTests {
        /// The pid of each batch's agent (its process group: agents lead their own) per attempt.
        static func agentPIDs(_ records: [LogRecord]) -> [String: pid_t] {
            var out: [String: pid_t] = [:]
            for r in records where r.event == "batch.transition" && r.to == "running" {
                if let p = r.phase, let b = r.batch, let a = r.attempt, let pid = r.pid { out["\(p)/\(b)#\(a)"] = pid }
            }
            return out
        }

        static func pidFile(_ h: CrashHarness, _ name: String) throws -> [pid_t] {
            String(decoding: try FileSystem.readFile(h.root + "/" + name), as: UTF8.self)
                .split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
        }

        /// The agent starts `sleep 600` in the background (same process group), publishes its
        /// output and exits. The leftover must not outlive the attempt, nor become a zombie.
        @Test("an agent that leaves a grandchild behind: its group is emptied, nothing is left")
        func grandchildLeftBehind() throws {
            let pipeline = CrashPipeline(run: "gc", phases: 1, batches: 2, batchSize: 2, concurrency: 2, maxAttempts: 2,
                                         killGraceSeconds: 0.3, agentBody: """
                                         sleep 600 &
                                         echo $! > "gc-$batch.pid"
                                         object_batch "$start" "$end" | publish "$out"
                                         """)
            try withCrashHarness("grandchild", pipeline) { h in
                let daemon = try h.start()
                let log = try CrashLogFollower(h.eventLog)
                try log.wait("run.completed and both agents' exits", daemon: daemon, within: 30) {
                    $0.count(event: "run.completed") > 0 && $0.count(event: "agent.exited") == 2
                }
                let records = try log.records()
                let agents = Self.agentPIDs(records)
                let grandchildren = try (1...2).flatMap { try Self.pidFile(h, "gc-\($0).pid") }
                h.check(agents.count == 2 && grandchildren.count == 2, "agents \(agents), grandchildren \(grandchildren)")
                // The leftovers get SIGTERM when their leader exits (then SIGKILL after the grace).
                let running = try h.waitForExit(grandchildren, within: 30)
                h.check(running.isEmpty, "grandchildren still running 30 s after their agents exited: \(running.compactMap(CrashProcs.info))")
                try h.barrier(daemon, log)
                for (key, pgid) in agents {
                    h.check(CrashProcs.isGroupGone(pgid), "\(key): group \(pgid) not empty: \(CrashProcs.members(ofGroup: pgid))")
                }
                h.check(CrashProcs.zombieChildren(of: daemon.pid).isEmpty, "zombies under the daemon: \(CrashProcs.zombieChildren(of: daemon.pid))")
                try h.stop(daemon)
                h.check(CrashProcs.living(withRoot: h.root).isEmpty, "alive after the stop: \(CrashProcs.living(withRoot: h.root))")
                h.checkEmpty(try crashInvariantProblems(h), "grandchild pipeline")
            }
        }

        /// Attempt 1 ignores SIGTERM (`trap '' TERM`, inherited by its `sleep`) and outlives its
        /// 1 s timeout: SIGTERM to the group, then SIGKILL after `killGraceSeconds`; the attempt
        /// fails with `timeout` and attempt 2 succeeds.
        @Test("an agent that ignores SIGTERM is SIGKILLed after the grace period, then retried")
        func agentIgnoringSIGTERM() throws {
            let pipeline = CrashPipeline(run: "deaf", phases: 1, batches: 1, batchSize: 2, concurrency: 1, maxAttempts: 2,
                                         timeoutSeconds: 1, killGraceSeconds: 0.5, agentBody: """
                                         if [ "$attempt" = 1 ]; then trap '' TERM; sleep 600; fi
                                         object_batch "$start" "$end" | publish "$out"
                                         """)
            try withCrashHarness("sigterm-deaf", pipeline) { h in
                let daemon = try h.start()
                let log = try CrashLogFollower(h.eventLog)
                try log.wait("run.completed", daemon: daemon, within: 30) { $0.count(event: "run.completed") > 0 }
                let records = try log.records()
                let first = try #require(Self.agentPIDs(records)["1/1#1"])
                let signals = records.filter { $0.event == "agent.signalled" && $0.attempt == 1 }
                h.check(signals.map { $0["signal"]?.string ?? "?" } == ["SIGTERM", "SIGKILL"] && signals.allSatisfy { $0.reason == "timeout" },
                        "expected SIGTERM then SIGKILL for the timeout: \(signals.map(\.line))")
                if signals.count == 2 {
                    let gap = signals[1].time - signals[0].time
                    h.check(gap >= 0.5 - 0.01, "SIGKILL came \(gap) s after SIGTERM, before the 0.5 s grace")
                }
                h.check(records.contains { $0.event == "agent.exited" && $0.pid == first && $0["status"]?.string == "killed by SIGKILL" },
                        "attempt 1's agent.exited should say killed by SIGKILL: \(records.filter { $0.event == "agent.exited" }.map(\.line))")
                h.check(records.contains { $0.isTransition(phase: "1", batch: 1, to: "retry_wait", reason: "timeout", attempt: 1) },
                        "attempt 1 did not fail with reason timeout")
                h.check(records.contains { $0.isTransition(phase: "1", batch: 1, to: "merged", attempt: 2) }, "attempt 2 did not merge")
                try h.barrier(daemon, log)
                h.check(CrashProcs.isGroupGone(first), "attempt 1's group \(first) is not empty: \(CrashProcs.members(ofGroup: first))")
                h.check(CrashProcs.zombieChildren(of: daemon.pid).isEmpty, "zombies under the daemon: \(CrashProcs.zombieChildren(of: daemon.pid))")
                try h.stop(daemon)
                h.checkEmpty(try crashInvariantProblems(h), "SIGTERM-deaf pipeline")
            }
        }

        /// A clean stop under a running agent: SIGTERM to its group (the agent dies of it at
        /// once), `watcher.stopped`, exit 0, well within the kill grace period plus a margin.
        @Test("SIGTERM while an agent runs: its group is stopped and the daemon exits promptly")
        func stopWithAgentRunning() throws {
            let pipeline = CrashPipeline(run: "stop", phases: 1, batches: 1, batchSize: 2, concurrency: 1, maxAttempts: 2,
                                         timeoutSeconds: 120, killGraceSeconds: 0.5, agentBody: "exec sleep 600")
            try withCrashHarness("stop-under-agent", pipeline) { h in
                let daemon = try h.start()
                let log = try CrashLogFollower(h.eventLog)
                try log.wait("the agent running", daemon: daemon, within: 20) { try Self.agentPIDs($0.records())["1/1#1"] != nil }
                let agent = try #require(try Self.agentPIDs(log.records())["1/1#1"])
                let started = Clock.monotonicNanoseconds()
                try daemon.signal(SIGTERM)
                let status = try daemon.finish(within: 30)
                let seconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
                h.check(status == .exited(0), "the stop ended \(status): \(daemon.stderr)")
                CrashOrphans.reap()
                h.check(CrashProcs.isGroupGone(agent), "the agent's group \(agent) survived the stop: \(CrashProcs.members(ofGroup: agent))")
                h.check(try h.records().last?.event == "watcher.stopped", "the log does not end with watcher.stopped")
                // (It once waited the grace period, sent SIGKILL, then 10 s more for a group whose
                // leader had been reaped during the stop.)
                h.check(seconds < 0.5 + 3, "the stop took \(seconds) s; stderr: \(daemon.stderr)")
            }
        }

        /// The daemon is SIGKILLed while an external validator runs. The next start validates the
        /// batch again with a new validator; the old one must not run on, orphaned.
        @Test("daemon SIGKILLed during an external validator: the restart leaves no old validator running")
        func daemonKilledDuringValidator() throws {
            let pipeline = CrashPipeline(run: "val", phases: 1, batches: 1, batchSize: 2, concurrency: 1,
                                         validatorArgv: ["/bin/sh", "validator.sh"])
            try withCrashHarness("killed-during-validator", pipeline) { h in
                try h.sandbox.write("validator.sh", """
                    #!/bin/sh
                    echo $$ >> validator.pids.part && mv validator.pids.part validator.pids
                    [ -e validators-pass ] || exec sleep 600
                    exit 0

                    """)
                let first = try h.start()
                try waitForFile(h.root + "/validator.pids", deadline: .seconds(20))
                let old = try #require(try Self.pidFile(h, "validator.pids").first)
                defer { _ = try? ProcessControl.signal(old, SIGKILL) }
                try h.kill9(first)
                h.check(CrashProcs.info(old).map { !$0.isZombie } ?? false, "the validator \(old) should outlive the SIGKILLed daemon")
                try h.sandbox.write("validators-pass", "")

                let (_, startLine) = try h.runToCompletion()
                let records = try h.records()
                h.check(records.dropFirst(startLine).contains { $0.isTransition(phase: "1", batch: 1, to: "merged") }, "the batch did not merge after the restart")
                h.checkEmpty(try crashInvariantProblems(h), "after a crash during validation")
                // Validators carry the AGENT_WATCHER_ROOT marker too, so the restart stops them.
                #expect(CrashProcs.info(old).map(\.isZombie) ?? true, "the old validator \(old) still runs after the restart and the stop")
            }
        }

        /// The daemon is SIGKILLed while attempt 1's agent and its grandchild run. The next start
        /// must kill both (they carry `AGENT_WATCHER_ROOT`), count attempt 1 as failed with
        /// `watcher_restart`, run attempt 2, and leave no zombie.
        @Test("daemon SIGKILLed under a running agent and grandchild: restart kills them, attempt 2 runs")
        func daemonKilledUnderRunningAgent() throws {
            let pipeline = CrashPipeline(run: "under", phases: 1, batches: 1, batchSize: 2, concurrency: 1, maxAttempts: 3,
                                         agentBody: """
                                         if [ "$attempt" = 1 ]; then
                                           sleep 600 &
                                           echo "$$ $!" > pids.tmp && mv pids.tmp agent-1.pids
                                           wait
                                         fi
                                         object_batch "$start" "$end" | publish "$out"
                                         """)
            try withCrashHarness("killed-under-agent", pipeline) { h in
                let first = try h.start()
                let log = try CrashLogFollower(h.eventLog)
                try log.wait("attempt 1 running", daemon: first, within: 20) { try Self.agentPIDs($0.records())["1/1#1"] != nil }
                try waitForFile(h.root + "/agent-1.pids", deadline: .seconds(20))
                let pids = try Self.pidFile(h, "agent-1.pids")
                try #require(pids.count == 2)
                let (agent, grandchild) = (pids[0], pids[1])
                h.check(try Self.agentPIDs(log.records())["1/1#1"] == agent, "the logged pid is not the agent's")
                try h.kill9(first)
                for p in [agent, grandchild] {
                    h.check(CrashProcs.info(p).map { !$0.isZombie && $0.pgrp == agent } ?? false,
                            "\(p) should still run in group \(agent) after the daemon's SIGKILL: \(CrashProcs.info(p).map(String.init(describing:)) ?? "gone")")
                }

                let second = try h.start()
                let log2 = try CrashLogFollower(h.eventLog)
                let startLine = try log2.waitForStart(of: second)
                try log2.wait("watcher.recovered", daemon: second, within: 20) { $0.count(event: "watcher.recovered", from: startLine) > 0 }
                // Recovery waits until what it killed has exited; they are zombies of ours (the
                // subreaper) at most, never running.
                for p in [agent, grandchild] {
                    h.check(CrashProcs.info(p).map(\.isZombie) ?? true, "\(p) survived the restart: \(CrashProcs.info(p).map(String.init(describing:)) ?? "")")
                }
                let recovered = try log2.records(from: startLine).first { $0.event == "watcher.recovered" }
                let killed = recovered?["killed_agents"]?.strings ?? []
                h.check(Set(killed) == ["\(agent)/\(agent)", "\(grandchild)/\(agent)"], "killed_agents \(killed), expected the agent and its grandchild")
                CrashOrphans.reap()
                h.check(CrashProcs.isGroupGone(agent), "the old agent's group \(agent) is not empty: \(CrashProcs.members(ofGroup: agent))")

                try log2.wait("run.completed and attempt 2's exit", daemon: second, within: 30) {
                    $0.count(event: "run.completed", from: startLine) > 0 && $0.count(event: "agent.exited", from: startLine) > 0
                }
                let records = try log2.records()
                h.check(records.contains { $0.isTransition(phase: "1", batch: 1, from: "running", to: "retry_wait", reason: "watcher_restart", attempt: 1) },
                        "attempt 1 not counted as failed with watcher_restart")
                let spawns = records.filter { $0.isTransition(phase: "1", batch: 1, to: "spawning") }.map { $0.attempt ?? 0 }
                h.check(spawns == [1, 2], "spawned attempts \(spawns), expected [1, 2]")
                h.check(records.contains { $0.isTransition(phase: "1", batch: 1, to: "merged", attempt: 2) }, "attempt 2 did not merge")
                try h.barrier(second, log2)
                if let attempt2 = Self.agentPIDs(records)["1/1#2"] {
                    h.check(CrashProcs.isGroupGone(attempt2), "attempt 2's group \(attempt2) is not empty: \(CrashProcs.members(ofGroup: attempt2))")
                }
                h.check(CrashProcs.zombieChildren(of: second.pid).isEmpty, "zombies under the daemon: \(CrashProcs.zombieChildren(of: second.pid))")
                try h.stop(second)
                h.check(CrashProcs.living(withRoot: h.root).isEmpty, "alive after the stop: \(CrashProcs.living(withRoot: h.root))")
                h.checkEmpty(try crashInvariantProblems(h), "after the restart")
            }
        }
    }
}
