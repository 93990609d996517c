import AgentWatcher
import Foundation
import Glibc
import WatcherCore
import WatcherSystem

enum TailCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let layout = Layout(root: args.root)
        let follow = args.flag("follow")
        let json = args.flag("json")
        let run = args.option("run")
        var offset = 0
        var pending: [UInt8] = []
        func emit(_ bytes: [UInt8]) {
            pending += bytes
            while let nl = pending.firstIndex(of: 0x0A) {
                let line = pending[..<nl]
                defer { pending.removeSubrange(...nl) }
                guard let r = try? EventRecord.decode(line) else { // a damaged line is shown as it is
                    Console.out("?? " + String(decoding: line, as: UTF8.self))
                    continue
                }
                if let run, r.event.run != run { continue }
                Console.out(json ? String(decoding: line, as: UTF8.self) : EventFormatter.line(r))
            }
        }
        func readMore() throws {
            guard FileSystem.exists(layout.eventLog) else { return }
            let fd = try FileDescriptor.open(layout.eventLog, O_RDONLY)
            let size = Int(try fd.stat().size)
            if size < offset { offset = 0; pending = [] } // the log was cut or replaced
            try fd.seek(to: Int64(offset))
            let bytes = try fd.readAll()
            offset += bytes.count
            try fd.close()
            emit(bytes)
        }
        if !follow {
            guard FileSystem.exists(layout.eventLog) else {
                Console.error("agent-watcher: no event log at \(layout.eventLog)")
                return 1
            }
            try readMore()
            return 0
        }
        // Follow: sleep in poll() on inotify; wake on writes to the log (no polling loop).
        try FileSystem.createDirectory(layout.logs)
        let inotify = try Inotify()
        _ = try inotify.addWatch(layout.logs, mask: [.modify, .create, .movedTo, .closeWrite])
        try readMore()
        while true {
            _ = try Poller.wait([inotify.fileDescriptor], timeoutMilliseconds: -1)
            let events = try inotify.readEvents()
            if events.contains(where: { $0.name == "events.jsonl" }) { try readMore() }
        }
    }
}
