import Foundation
import WatcherSystem
import XCTest

/// `reconcileSeconds`: a scan of the mailbox on a timer, for writes inotify cannot see (another
/// host's, on NFS or Lustre). What it finds is handled exactly once.
final class ReconcileScanTests: EndToEndTestCase {
    func testTheReconciliationScanFindsAFileAndItIsHandledOnce() throws {
        let sandbox = try makeSandbox()
        let spec = Fixtures.spec(run: "rc", batchSize: 2, phases: [Fixtures.objectPhase("p1", file: "out/p1.json")],
                                 overrides: ["reconcileSeconds": 0.2, "concurrency": 1])
        // Batch 1's agent writes its output in place and keeps it open until told to go on.
        let path = try Fixtures.install(in: sandbox, spec: spec, itemCount: 4, agentBody: """
        if [ "$batch" = 1 ]; then
          exec 3> "$out"
          object_batch $start $end >&3
          wait_for release || exit 1
          exec 3>&-
        else
          object_batch $start $end | publish "$out"
        fi
        """)
        let daemon = try sandbox.start(["run", "--pipeline", path, "--root", sandbox.root])
        let scan = try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "a reconciliation scan") {
            $0.event == "watch.rescan" && $0.reason == "reconcile"
                && ($0["paths"]?.array ?? []).contains { $0.string?.hasSuffix("/p1_batch_1.json") == true }
        }
        XCTAssertEqual(scan["files"]?.int, 1, scan.line)
        try sandbox.write("release", "")
        try waitForEvent(log: sandbox.eventLog, deadline: .seconds(20), daemon: daemon, "run.completed") { $0.isEvent("run.completed", run: "rc") }
        XCTAssertEqual(try daemon.stop(), .exited(0), daemon.stderr)
        let records = try EventLog.read(sandbox.eventLog)
        XCTAssertEqual(records.filter { $0.isTransition(phase: "p1", batch: 1, to: "validating") }.count, 1, "handled once")
        XCTAssertEqual(finalStates(records)["p1/1"], "merged")
        XCTAssertEqual(finalStates(records)["p1/2"], "merged")
    }
}
