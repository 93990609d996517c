import Foundation
import XCTest

/// The committed systemd user unit (`contrib/agent-watcher.service`) passes
/// `systemd-analyze verify`, with its ExecStart pointed at the built binary.
final class SystemdUnitTests: EndToEndTestCase {
    func testUnitVerifies() throws {
        let unitPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("contrib/agent-watcher.service").path
        let unit = try String(contentsOfFile: unitPath, encoding: .utf8)
        XCTAssertTrue(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"))
        XCTAssertTrue(unit.contains("KillMode=mixed"))
        XCTAssertTrue(unit.contains(" run --pipeline "))
        let timeout = unit.split(separator: "\n").first { $0.hasPrefix("TimeoutStopSec=") }.flatMap { Int($0.dropFirst("TimeoutStopSec=".count)) }
        XCTAssertGreaterThan(try XCTUnwrap(timeout), 5, "longer than the default killGraceSeconds")
        let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let analyze else { throw XCTSkip("systemd-analyze is not installed: the unit was not verified") }
        let sandbox = try makeSandbox()
        let local = unit.replacingOccurrences(of: "%h/.local/bin/agent-watcher", with: AgentWatcherBinary.path)
            .replacingOccurrences(of: "%h/agent-watcher", with: sandbox.root)
        try FileManager.default.createDirectory(atPath: sandbox.path("units"), withIntermediateDirectories: true)
        let path = sandbox.path("units/agent-watcher.service")
        try local.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try sandbox.run([analyze, "verify", path], binary: nil)
        // Outside a systemd machine (a container) verify may complain about the manager, never the unit.
        let aboutTheUnit = (r.stdout + r.stderr).split(separator: "\n").filter { $0.contains("agent-watcher.service") }
        XCTAssertEqual(aboutTheUnit, [], "systemd-analyze verify: \(r.stdout)\(r.stderr)")
        if r.exitCode != 0 { print("systemd-analyze verify exited \(String(describing: r.exitCode)) without naming the unit: \(r.stderr)") }
    }
}
