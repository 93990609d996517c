import Testing
@testable import WatcherCore

/// What `status` says, from the log alone: progress, estimates, and the truth when no daemon runs.
@Suite struct StatusReportTests {
    static func record(_ seq: UInt64, _ second: Int, _ event: Event) -> EventRecord {
        EventRecord(seq: seq, ts: "2026-11-21T08:00:\(second < 10 ? "0" : "")\(second).000000Z", event: event)
    }

    static func transition(_ seq: UInt64, _ second: Int, batch: Int, attempt: Int = 1, from: String, to: String,
                           reason: String? = nil) -> EventRecord {
        record(seq, second, Event(event: EventName.transition, run: "r", phase: "1", batch: batch, attempt: attempt,
                                  from: from, to: to, reason: reason))
    }

    /// 4 batches, concurrency 1: batch 1 merged in 10 s, batch 2 running, batch 3 failed.
    static let log: [EventRecord] = [
        record(1, 0, Event(event: EventName.runStarted, run: "r", details: [
            .init("phases", .strings(["1"])), .init("batches", .int(4)), .init("items", .int(4)),
            .init("batch_size", .int(1)), .init("concurrency", .int(1)),
        ])),
        transition(2, 0, batch: 1, from: "pending", to: "spawning"),
        transition(3, 10, batch: 1, from: "merging", to: "merged"),
        transition(4, 10, batch: 3, from: "pending", to: "spawning"),
        transition(5, 11, batch: 3, from: "running", to: "failed", reason: "agent_crashed"),
        transition(6, 12, batch: 2, from: "pending", to: "spawning"),
        transition(7, 12, batch: 2, from: "spawning", to: "running"),
    ]

    @Test func aReplayMadeOnceGivesTheSameReport() {
        let state = StatusReport.replay(Self.log)
        for running in [true, false] {
            #expect(StatusReport.build(Self.log, replayed: state, daemonRunning: running, now: nil)
                == StatusReport.build(Self.log, daemonRunning: running))
        }
    }

    @Test func runningDaemonGivesProgressAndAnEstimate() throws {
        let report = StatusReport.build(Self.log, daemonRunning: true, now: EventFormatter.seconds("2026-11-21T08:00:20.000000Z"))
        let run = try #require(report.runs.first)
        let phase = try #require(run.phases.first)
        #expect(phase.running == 1)
        #expect(phase.interrupted == 0)
        #expect(phase.done == 1)
        #expect(phase.currentBatch == 2)
        #expect(run.etaSeconds == 20, "mean 10 s × 2 batches not ended / concurrency 1")
        #expect(run.elapsedSeconds == 20)
        #expect(phase.failedBatches.map(\.batch) == [3])
        #expect(phase.failedBatches.first?.attempts.first?.reason == "agent_crashed")
    }

    @Test func aConcurrencyChangedOnReloadIsTheOneShownAndUsedForTheEstimate() throws {
        let log = Self.log + [Self.record(8, 13, Event(event: EventName.specChanged, run: "r", details: [
            .init("changes", .strings(["concurrency: 1 -> 2"])), .init("settings", .strings(["concurrency=2", "maxAttempts=3"])),
        ]))]
        let run = try #require(StatusReport.build(log, daemonRunning: true, now: EventFormatter.seconds("2026-11-21T08:00:20.000000Z")).runs.first)
        #expect(run.concurrency == 2)
        #expect(run.etaSeconds == 10, "mean 10 s × 2 batches not ended / concurrency 2")
    }

    @Test func noDaemonShowsInterruptedAndNoEstimate() throws {
        let report = StatusReport.build(Self.log, daemonRunning: false, now: EventFormatter.seconds("2026-11-21T08:00:20.000000Z"))
        let run = try #require(report.runs.first)
        let phase = try #require(run.phases.first)
        #expect(phase.running == 0)
        #expect(phase.interrupted == 1)
        #expect(run.etaSeconds == nil)
        #expect(run.estimatedCompletion == nil)
        #expect(phase.remainingSeconds == nil)
        let json = report.statusJSON(root: "/r", generatedAt: 0)
        #expect(json["daemon"]?["running"]?.boolValue == false)
        #expect(json["runs"]?[0]?["phases"]?[0]?["interrupted"]?.intValue == 1)
        #expect(json["runs"]?[0]?["estimatedCompletion"]?.isNull == true)
        #expect(json["runs"]?[0]?["state"]?.stringValue == "stopped")
    }

    @Test func pausedRunHasNoEstimate() throws {
        let paused = Self.log + [Self.record(8, 13, Event(event: EventName.controlApplied, run: "r", details: [.init("command", .string("pause"))]))]
        #expect(StatusReport.replay(paused).paused.contains("r"))
        let report = StatusReport.build(paused, daemonRunning: true, now: 20)
        #expect(report.runs.first?.paused == true)
        #expect(report.runs.first?.etaSeconds == nil)
        #expect(report.runs.first?.phases.first?.remainingSeconds == nil)
    }
}
