#if canImport(Glibc)
import Glibc
#endif

/// A snapshot of who is whose parent, from `/proc/*/stat`: to find every descendant of a
/// process, also those that left its process group and session (`setsid`) or cleared their
/// environment, and the orphans a subreaper was given.
public struct ProcessTree: Sendable {
    /// pid -> parent pid, for every process that was alive (zombies left out).
    public let parents: [pid_t: pid_t]

    public init(parents: [pid_t: pid_t]) {
        self.parents = parents
    }

    /// Reads `/proc` now.
    public static func current() throws -> ProcessTree {
        var parents: [pid_t: pid_t] = [:]
        for entry in try FileSystem.listDirectory("/proc") {
            guard let pid = pid_t(entry.name), let fields = ProcessControl.statFields(of: pid), fields.count > 1,
                  fields[0] != "Z", fields[0] != "X", let ppid = pid_t(fields[1]) else { continue }
            parents[pid] = ppid
        }
        return ProcessTree(parents: parents)
    }

    /// Every descendant of `pid` (children, their children ...), not `pid` itself, sorted.
    public func descendants(of pid: pid_t) -> [pid_t] {
        var children: [pid_t: [pid_t]] = [:]
        for (child, parent) in parents { children[parent, default: []].append(child) }
        var found: [pid_t] = []
        var next = children[pid] ?? []
        while let p = next.popLast() {
            found.append(p)
            next += children[p] ?? []
        }
        return found.sorted()
    }

    /// The processes whose parent is `pid`.
    public func children(of pid: pid_t) -> [pid_t] {
        parents.filter { $0.value == pid }.map(\.key).sorted()
    }
}
