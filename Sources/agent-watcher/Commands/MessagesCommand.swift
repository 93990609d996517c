import AgentWatcher
import Foundation
import WatcherCore
import WatcherSystem

/// `messages [--to NAME] [--thread ID] [-f] [--root DIR]`: agent messages as conversations,
/// from the event log's `message.*` records and the message files under `mailbox/agents/`
/// (bodies, and messages no daemon has read yet). `-f` then prints each new `message.*` record
/// as it is logged (inotify on the log; no polling).
enum MessagesCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        let to = args.option("to")
        let threadID = args.option("thread")
        let follow = args.flag("follow")
        if follow && args.flag("json") { throw args.usageError("--json prints one document; it does not follow (-f)") }
        let layout = Layout(root: args.root)

        let follower = follow ? try LogFollower(layout: layout, fromStart: true) : nil
        var records: [EventRecord] = []
        if let follower {
            records = try follower.readNew().compactMap(\.record)
        } else if FileSystem.exists(layout.eventLog) {
            records = try EventLogReader.read(layout.eventLog).records
        }
        let messages = MessageThreads.collect(records: records, files: try messageFiles(layout))
        let turns = TurnSummary.build(records)
        var threads = TurnSummary.stuckFirst(MessageThreads.build(messages), turns)
        if let threadID {
            if let t = MessageThreads.thread(containing: threadID, in: threads) {
                threads = [t]
            } else if follow {
                threads = [] // it may come
            } else {
                Console.error("agent-watcher: no message with id \(threadID) in \(layout.eventLog) or under \(layout.agents)/")
                return 1
            }
        }
        if let to { threads = threads.filter { $0.entries.contains { $0.message.to == to } } }
        if args.flag("json") {
            Console.out(OutputJSON.threads(threads, turns: turns).description)
            return 0
        }
        if threads.isEmpty {
            Console.out(to.map { "no agent messages to \($0) yet" } ?? "no agent messages yet")
        }
        for t in threads { Console.out(render(t, turns: turns.thread(t.root))) }
        guard let follower else { return 0 }
        return try followLog(follower, layout: layout, known: messages, to: to, thread: threadID)
    }

    /// Every envelope under `mailbox/agents/<name>/`; files that are not envelopes are named on stderr.
    static func messageFiles(_ layout: Layout) throws -> [(path: String, message: AgentMessage)] {
        let found = try MessageFiles.collect(layout)
        for p in found.problems { Console.error("agent-watcher: " + p) }
        return found.files
    }

    static func render(_ t: MessageThreads.Thread, turns: TurnSummary.ThreadTurns? = nil) -> String {
        let people = Set(t.entries.flatMap { [$0.message.from, $0.message.to] }).sorted()
        let mark = turns?.stuck == true ? "STUCK " : turns?.cancelled == true ? "CANCELLED " : ""
        var lines = ["\(mark)thread \(t.root) (\(t.entries.count) message\(t.entries.count == 1 ? "" : "s"); \(people.joined(separator: ", ")))"]
        for e in t.entries {
            let indent = String(repeating: "  ", count: e.depth + 1) + (e.depth > 0 ? "↳ " : "")
            lines.append(indent + line(e.message))
        }
        if let turns, !turns.turns.isEmpty {
            lines.append("  turns:")
            for turn in turns.turns { lines.append("    " + turn.message + "  " + TurnSummary.text(turn)) }
        }
        return lines.joined(separator: "\n")
    }

    /// `show --thread ID`: the thread's messages, its turns, and its stuck report if it has one.
    static func showThread(_ id: String, layout: Layout) throws -> Int32 {
        let records = FileSystem.exists(layout.eventLog) ? try EventLogReader.read(layout.eventLog).records : []
        let threads = MessageThreads.build(MessageThreads.collect(records: records, files: try messageFiles(layout)))
        guard let t = MessageThreads.thread(containing: id, in: threads) else {
            Console.error("agent-watcher: no message with id \(id) in \(layout.eventLog) or under \(layout.agents)/")
            return 1
        }
        let turns = TurnSummary.build(records).thread(t.root)
        Console.out(render(t, turns: turns))
        for turn in turns?.turns ?? [] {
            for a in 1...max(1, turn.attempt) {
                let prompt = layout.responderFile(responder: turn.responder, message: turn.message, attempt: a, "prompt.md")
                let log = layout.responderFile(responder: turn.responder, message: turn.message, attempt: a, "log")
                if FileSystem.exists(prompt) { Console.out("  \(turn.message) attempt \(a): \(prompt) (log: \(log))") }
            }
        }
        if FileSystem.exists(layout.stuckReport(t.root)) { Console.out("stuck report: \(layout.stuckReport(t.root))") }
        return 0
    }

    static func line(_ m: MessageThreads.Message) -> String {
        var parts = ["\(m.id)", "\(m.from) → \(m.to)", m.type, m.status]
        if let ts = m.received, ts.count >= 23 { parts.append(String(ts.dropFirst(11).prefix(12))) }
        if let run = m.run {
            var at = run
            if let p = m.phase { at += " \(p)" }
            if let b = m.batch { at += "/\(b)" }
            parts.append(at)
        }
        if let body = m.body { parts.append(preview(body)) }
        return parts.joined(separator: "  ")
    }

    static func preview(_ body: JSONValue) -> String {
        let text = body.stringValue.map { "\"\($0)\"" } ?? body.description
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.count > 100 ? String(flat.prefix(99)) + "…" : flat
    }

    /// Prints each new `message.*` record as it is logged, with the thread it belongs to.
    static func followLog(_ follower: LogFollower?, layout: Layout, known: [MessageThreads.Message],
                          to: String?, thread: String?) throws -> Int32 {
        guard let follower else { return 0 }
        var replyTo = Dictionary(known.map { ($0.id, $0.replyTo) }, uniquingKeysWith: { a, _ in a })
        func root(of id: String) -> String {
            var current = id
            var seen: Set<String> = [id]
            while let parent = replyTo[current] ?? nil, replyTo[parent] != nil, seen.insert(parent).inserted { current = parent }
            return current
        }
        while true {
            for (_, r) in try follower.readNew() {
                guard let r, r.event.event.hasPrefix("message."), let id = r.event.string("id") else { continue }
                if replyTo[id] == nil { replyTo[id] = r.event.string("reply_to") }
                let threadRoot = root(of: id)
                if let to, r.event.to != to { continue }
                if let thread, threadRoot != root(of: thread) { continue }
                let time = r.ts.count >= 23 ? String(r.ts.dropFirst(11).prefix(12)) : r.ts
                var text = "\(time)  \(r.event.event)  \(id)  \(r.event.from ?? "?") → \(r.event.to ?? "?")"
                if let type = r.event.string("type") { text += "  \(type)" }
                if let reason = r.event.reason { text += "  (\(reason))" }
                if threadRoot != id { text += "  [thread \(threadRoot)]" }
                Console.out(text)
            }
            _ = try follower.waitForWrite(timeoutMilliseconds: -1)
        }
    }
}
