// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "agent-watcher",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "agent-watcher", targets: ["agent-watcher"]),
    ],
    targets: [
        // Pure logic: no syscalls, no clock reads, no file I/O.
        .target(name: "WatcherCore"),
        // Thin typed wrappers over Glibc. Knows nothing of batches.
        .target(name: "WatcherSystem"),
        // The daemon: event loop, mailbox, supervisor, merger, recovery. Knows no course.
        .target(name: "AgentWatcher", dependencies: ["WatcherCore", "WatcherSystem"]),
        // The demo course: its rule sets, embedded data, simulated agent and `agent-watcher demo`.
        .target(
            name: "DemoCourse",
            dependencies: ["AgentWatcher", "WatcherCore", "WatcherSystem"],
            resources: [.copy("Resources/demo")]
        ),
        // `agent-watcher dashboard`: a reader process serving the log and the mailbox over loopback HTTP.
        .target(name: "Dashboard", dependencies: ["AgentWatcher", "WatcherCore", "WatcherSystem"]),
        .executableTarget(name: "agent-watcher", dependencies: ["AgentWatcher", "Dashboard", "DemoCourse", "WatcherCore", "WatcherSystem"]),
        // The benchmark harness (`swift run -c release watcher-bench`); CI only builds it.
        .executableTarget(name: "watcher-bench", dependencies: ["AgentWatcher", "DemoCourse", "WatcherCore", "WatcherSystem"],
                          path: "Benchmarks/watcher-bench"),
        .testTarget(name: "WatcherCoreTests", dependencies: ["WatcherCore"]),
        .testTarget(name: "DemoCourseTests", dependencies: ["DemoCourse", "AgentWatcher", "WatcherCore", "WatcherSystem"]),
        .testTarget(name: "WatcherSystemTests", dependencies: ["WatcherSystem"]),
        .testTarget(name: "AgentWatcherTests", dependencies: ["AgentWatcher", "WatcherCore", "WatcherSystem"]),
        .testTarget(name: "EndToEndTests", dependencies: ["WatcherSystem"]),
    ],
    swiftLanguageModes: [.v6]
)
