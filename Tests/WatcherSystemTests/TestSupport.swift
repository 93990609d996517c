#if canImport(Glibc)
import Glibc
#endif
import XCTest
import WatcherSystem

/// A private folder made with `mkdtemp`, removed by ``remove()``.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = try FileSystem.makeTemporaryDirectory("/tmp/watcher-system-tests-")
    }

    func remove() throws {
        try FileSystem.removeTree(path)
    }

    func file(_ name: String) -> String {
        Path.join(path, name)
    }
}

/// Writes a whole file in place (open, write, close), as an agent would.
func writeFile(_ path: String, _ text: String) throws {
    let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC)
    try fd.writeAll(text)
    try fd.close()
}

func readText(_ path: String) throws -> String {
    String(decoding: try FileSystem.readFile(path), as: UTF8.self)
}

/// Sleeps in `poll` on real event descriptors until `done` is true or the
/// deadline passes: `pump` is called whenever one of `fds` is readable (and once
/// up front) to consume what arrived. No fixed sleeps.
func waitUntil(
    fds: [Int32],
    seconds: Double = 30,
    pump: () throws -> Void,
    _ done: () throws -> Bool
) throws -> Bool {
    let deadline = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
    try pump()
    while try !done() {
        let timeout = Poller.timeout(untilMonotonic: deadline)
        if timeout == 0 { return false }
        if try !Poller.wait(fds, timeoutMilliseconds: timeout).isEmpty {
            try pump()
        }
    }
    return true
}

/// Collects a watcher's events until `done(events)` or the deadline.
func collectEvents(
    _ watcher: DirectoryWatcher,
    seconds: Double = 30,
    until done: ([WatchedFileEvent]) -> Bool
) throws -> [WatchedFileEvent] {
    var events: [WatchedFileEvent] = []
    _ = try waitUntil(fds: [watcher.fileDescriptor], seconds: seconds,
                      pump: { events += try watcher.readEvents() },
                      { done(events) })
    return events
}

/// Waits (on inotify `IN_MODIFY`, never by sleeping) until the file at `path`
/// contains `text`.
func waitForContents(_ path: String, containing text: String, seconds: Double = 30) throws -> Bool {
    let inotify = try Inotify()
    _ = try inotify.addWatch(path, mask: [.modify, .closeWrite])
    return try waitUntil(fds: [inotify.fileDescriptor], seconds: seconds,
                         pump: { _ = try inotify.readEvents() },
                         { try readText(path).contains(text) })
}
