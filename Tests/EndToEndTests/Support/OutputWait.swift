import WatcherSystem

extension EndToEndTestCase {
    /// Waits (inotify on the output file's folder, with a deadline) until the child printed `text`.
    func waitForOutput(_ child: ChildProcess, containing text: String, deadline: Deadline) throws {
        let inotify = try Inotify()
        defer { try? inotify.close() }
        _ = try inotify.addWatch(Path.parent(child.stdoutPath), mask: [.modify, .closeWrite])
        while !child.stdout.contains(text) {
            guard !deadline.hasPassed else { throw E2EError("no '\(text)' in the output: \(child.stdout) \(child.stderr)") }
            if try !Poller.wait([inotify.fileDescriptor], timeoutMilliseconds: deadline.pollTimeout).isEmpty { _ = try inotify.readEvents() }
        }
    }
}
