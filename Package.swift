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
        // The daemon: event loop, mailbox, supervisor, merger, recovery, demo.
        .target(
            name: "AgentWatcher",
            dependencies: ["WatcherCore", "WatcherSystem"],
            resources: [.copy("Resources/demo")]
        ),
        .executableTarget(name: "agent-watcher", dependencies: ["AgentWatcher", "WatcherCore", "WatcherSystem"]),
        // The benchmark harness (`swift run -c release watcher-bench`); CI only builds it.
        .executableTarget(name: "watcher-bench", dependencies: ["AgentWatcher", "WatcherCore", "WatcherSystem"],
                          path: "Benchmarks/watcher-bench"),
        .testTarget(name: "WatcherCoreTests", dependencies: ["WatcherCore"]),
        .testTarget(name: "WatcherSystemTests", dependencies: ["WatcherSystem"]),
        .testTarget(name: "AgentWatcherTests", dependencies: ["AgentWatcher", "WatcherCore", "WatcherSystem"]),
        .testTarget(name: "EndToEndTests", dependencies: ["WatcherSystem"]),
    ],
    swiftLanguageModes: [.v6]
)
