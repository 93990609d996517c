import Glibc
import AgentWatcher
import WatcherCore
import WatcherSystem

/// The demo's agent (`agent-watcher simulate-agent`): reads its prompt like a real agent,
/// takes 0.05-0.5 s, and writes the batch from an answer key the way a real agent would
/// (in place, or under `outbox/tmp/` and renamed). With a fixed seeded probability it writes
/// a flawed output instead: a missing item, a broken item, invalid JSON, nothing, or it hangs.
///
/// On a retry it does what a real agent does with the prompt's "Fix these errors" section: it
/// starts from the previous attempt's file (keeping the items that passed, and so the repairs of
/// earlier attempts), rewrites the failed items from its answer key, and repairs the ones whose
/// errors say how (``Repairs``: a LEGO for an uncovered word, a practice phrase for an empty or
/// missing basket). The real course data has such defects (S0003's misspelt "frecuentamente";
/// 24 empty baskets of seeds S0034-S0099), so those batches merge on a retry.
///
/// One batch is flawed for good: ``doomedBatch(seed:)`` (phase 3, batch 2-5 chosen by the seed)
/// breaks an item on every attempt, so it fails after its last attempt and its phase-5 batch is
/// blocked, which shows how the watcher gives up.
public struct SimulatedAgent {
    public enum Flaw: String, CaseIterable, Sendable { case missingItem, brokenItem, invalidJSON, nothing, hang }

    public var answersPath: String
    public var itemsPath: String
    public var phase: String
    public var batch: Int
    public var start: Int
    public var end: Int
    public var attempt: Int
    public var output: String
    public var seed: UInt64

    public init(answersPath: String, itemsPath: String, phase: String, batch: Int, start: Int, end: Int,
                attempt: Int, output: String, seed: UInt64) {
        self.answersPath = answersPath
        self.itemsPath = itemsPath
        self.phase = phase
        self.batch = batch
        self.start = start
        self.end = end
        self.attempt = attempt
        self.output = output
        self.seed = seed
    }

    /// The batch the seed dooms: phase 3, batch 2 + seed mod 4. It breaks an item on every attempt.
    public static func doomedBatch(seed: UInt64) -> (phase: String, batch: Int) { ("3", 2 + Int(seed % 4)) }

    public var isDoomed: Bool { let d = Self.doomedBatch(seed: seed); return d.phase == phase && d.batch == batch }

    /// The same seed, phase, batch and attempt always give the same behaviour.
    public func plan() -> (seconds: Double, flaw: Flaw?, rename: Bool, rng: SplitMix64) {
        var rng = SplitMix64(seed: seed ^ UInt64(truncatingIfNeeded: "\(phase)/\(batch)/\(attempt)".utf8.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 }))
        let seconds = 0.05 + rng.nextDouble() * 0.45
        let flawed = rng.nextDouble() < (attempt == 1 ? 0.3 : 0.1)
        let weights: [(Flaw, Double)] = [(.missingItem, 25), (.brokenItem, 25), (.invalidJSON, 20), (.nothing, 15), (.hang, 15)]
        var pick = rng.nextDouble() * 100
        var flaw: Flaw = .missingItem
        for (f, w) in weights { if pick < w { flaw = f; break }; pick -= w }
        let rename = rng.nextDouble() < 0.5
        if isDoomed { return (seconds, .brokenItem, rename, rng) }
        return (seconds, flawed ? flaw : nil, rename, rng)
    }

    public func run() throws -> Int32 {
        // Read the prompt like a real agent does (and so never leave a writer blocked on a pipe).
        var prompt = String(decoding: try FileDescriptor(owning: 0).readAll(), as: UTF8.self)
        if prompt.isEmpty, let file = getenv("AGENT_WATCHER_PROMPT_FILE").map({ String(cString: $0) }),
           let bytes = try? FileSystem.readFile(file) {
            prompt = String(decoding: bytes, as: UTF8.self)
        }
        var (seconds, flaw, rename, rng) = plan()
        askReviewer()
        sleepFor(seconds)
        if flaw == .hang { while true { sleepFor(3600) } }
        if flaw == .nothing { return 0 }
        var bytes = try batchBytes(flaw: flaw, rng: &rng, prompt: prompt)
        if flaw == .invalidJSON { bytes = Array(bytes.prefix(bytes.count * 6 / 10)) }
        if rename {
            let slash = output.lastIndex(of: "/")
            let dir = slash.map { String(output[..<$0]) } ?? "."
            let name = slash.map { String(output[output.index(after: $0)...]) } ?? output
            let tmp = dir + "/tmp/" + name + ".\(getpid())"
            let fd = try FileDescriptor.open(tmp, O_WRONLY | O_CREAT | O_TRUNC)
            try fd.writeAll(bytes)
            try fd.close()
            try FileSystem.rename(tmp, output)
        } else {
            // In place, in two writes with a pause between: the watcher must wait for the close.
            let fd = try FileDescriptor.open(output, O_WRONLY | O_CREAT | O_TRUNC)
            let half = bytes.count / 2
            try fd.writeAll(Array(bytes[..<half]))
            sleepFor(0.02)
            try fd.writeAll(Array(bytes[half...]))
            try fd.close()
        }
        return 0
    }

    /// The batch as the answer key has it: `{"<key>": <container of this batch's items>}`; on a
    /// retry (a prompt with a "Fix these errors" section), the previous attempt's passed items and
    /// the failed ones rewritten and repaired (see the type's comment).
    func batchBytes(flaw: Flaw?, rng: inout SplitMix64, prompt: String = "") throws -> [UInt8] {
        let items = try FileSystem.readFile(itemsPath)
        let seeds = try JSONScanner.members(ofTopLevelKey: "seeds", in: items).items
        var ids: [String] = []
        for item in seeds[(start - 1)..<min(end, seeds.count)] {
            if let id = try JSONScanner.stringMember("id", inObjectAt: item.valueRange, of: items) { ids.append(id) }
        }
        let answers = try FileSystem.readFile(answersPath)
        guard case .object(let top) = try JSONParser.parse(answers), let key = top.first?.key else {
            throw SystemError(operation: "read answers", path: answersPath, errno: .invalidArgument)
        }
        let container = try JSONScanner.members(ofTopLevelKey: key, in: answers)
        let wanted = Set(ids)
        func belongs(_ id: String) -> Bool { wanted.contains(id) || wanted.contains(String(id.prefix(5))) }
        var chosen: [(id: String, key: String?, raw: [UInt8])] = []
        for item in container.items {
            let id = try item.key ?? JSONScanner.stringMember("seed_id", inObjectAt: item.valueRange, of: answers) ?? ""
            if belongs(id) { chosen.append((id, item.key, Array(answers[item.valueRange]))) }
        }
        chosen = try retried(chosen, prompt: prompt, keyed: container.kind == .object, belongs: belongs)
        if let flaw, !chosen.isEmpty {
            let victim = Int(rng.next() % UInt64(chosen.count))
            if flaw == .missingItem { chosen.remove(at: victim) }
            if flaw == .brokenItem {
                chosen[victim].raw = chosen[victim].key == nil
                    ? Array("{\"seed_id\": \"\(chosen[victim].id)\", \"legos\": []}".utf8) : Array("{}".utf8)
            }
        }
        let isObject = container.kind == .object
        var out = Array("{\n  \"\(key)\": \(isObject ? "{" : "[")\n".utf8)
        for (i, item) in chosen.enumerated() {
            out += Array("    ".utf8)
            if let k = item.key { out += JSONText.quoted(k) + Array(": ".utf8) }
            out += item.raw
            out += Array((i + 1 < chosen.count ? ",\n" : "\n").utf8)
        }
        out += Array("  \(isObject ? "}" : "]")\n}\n".utf8)
        return out
    }

    /// The answer key's items as a retry writes them: the previous file's items that passed are
    /// kept as they were; items the errors name are taken from the answer key and repaired where
    /// ``Repairs`` knows how, and a missing item the errors name is written new.
    func retried(_ chosen: [(id: String, key: String?, raw: [UInt8])], prompt: String, keyed: Bool,
                 belongs: (String) -> Bool) throws -> [(id: String, key: String?, raw: [UInt8])] {
        let latest = Repairs.errors(inPrompt: prompt)
        guard attempt > 1 else { return chosen }
        let failed = Set(latest.map(\.item))
        // The errors of every earlier attempt, from the prompt and from `rejected/` beside the
        // outbox (as an agent with the workspace reads them): an attempt that left no file, or
        // broke a repaired item, must not make the next one forget an earlier repair.
        var errors = latest
        for error in earlierErrors() where !errors.contains(error) { errors.append(error) }
        var previous: [String: [UInt8]] = [:]
        var previousOrder: [String] = []
        if let file = Repairs.previousFile(inPrompt: prompt), let bytes = try? FileSystem.readFile(file),
           case .object(let top)? = try? JSONParser.parse(bytes), let container = top.first?.value {
            let items: [(String, JSONValue)]
            switch container {
            case .object(let members): items = members.map { ($0.key, $0.value) }
            case .array(let list): items = list.compactMap { v in v["seed_id"]?.stringValue.map { ($0, v) } }
            default: items = []
            }
            for (id, value) in items where previous[id] == nil && belongs(id) {
                previous[id] = value.serialized()
                previousOrder.append(id)
            }
        }
        let inputSeeds = Repairs.inputItems(inPrompt: prompt)
        var result: [(id: String, key: String?, raw: [UInt8])] = []
        for item in chosen {
            if !failed.contains(item.id), let kept = previous[item.id] {
                result.append((item.id, item.key, kept))
            } else if let value = try? JSONParser.parse(item.raw),
                      let repaired = Repairs.repair(value, id: item.id, errors: errors, inputSeeds: inputSeeds) {
                result.append((item.id, item.key, repaired.serialized()))
            } else {
                result.append(item)
            }
        }
        // Items the answer key lacks: kept from the previous file (an earlier repair) or written
        // for an error naming them (a missing basket), in id order among the others.
        let known = Set(result.map(\.id))
        var extra: [(String, [UInt8])] = []
        for id in previousOrder where !known.contains(id) && !failed.contains(id) { extra.append((id, previous[id]!)) }
        for id in errors.map(\.item) where !known.contains(id) && !extra.contains(where: { $0.0 == id }) && belongs(id) {
            if let repaired = Repairs.repair(nil, id: id, errors: errors, inputSeeds: inputSeeds) { extra.append((id, repaired.serialized())) }
        }
        for (id, raw) in extra {
            let at = result.firstIndex { $0.id > id } ?? result.count
            result.insert((id, keyed ? id : nil, raw), at: at)
        }
        return result
    }

    /// The repairable errors in `rejected/<phase>_batch_<batch>.attempt-<n>.errors.json` for the
    /// earlier attempts n of this batch (`rejected/` is the outbox's sibling).
    func earlierErrors() -> [Repairs.NamedError] {
        var dir = output
        for _ in 0..<2 { if let slash = dir.lastIndex(of: "/") { dir = String(dir[..<slash]) } }
        var result: [Repairs.NamedError] = []
        for n in stride(from: 1, to: attempt, by: 1) {
            guard let bytes = try? FileSystem.readFile(dir + "/rejected/\(phase)_batch_\(batch).attempt-\(n).errors.json"),
                  let report = try? JSONParser.parse(bytes) else { continue }
            for e in report["errors"]?.arrayValue ?? [] {
                guard let item = e["item"]?.stringValue, let type = e["type"]?.stringValue, Repairs.repairable.contains(type) else { continue }
                let error = Repairs.NamedError(item: item, type: type, message: e["message"]?.stringValue ?? "")
                if !result.contains(error) { result.append(error) }
            }
        }
        return result
    }

    /// Some phase-3 agents ask the `reviewer` responder about their first seed before they
    /// write (`agent-watcher send --wait`, as a real agent would): on its first attempt each odd
    /// batch asks once; batch 1 keeps asking follow-ups until its thread reaches the reviewer's
    /// turn limit (2) and the watcher says the thread is stuck. An unanswered ask is not fatal.
    public var questions: [(id: String, replyTo: String?)] {
        guard phase == "3", attempt == 1, batch % 2 == 1 else { return [] }
        let base = "review-3-\(batch)"
        let rounds = batch == 1 ? 3 : 1
        return (1...rounds).map { n in
            (n == 1 ? base : "\(base)-\(n)", n == 1 ? nil : (n == 2 ? base : "\(base)-\(n - 1)") + ".r\(n - 1)")
        }
    }

    func askReviewer() {
        guard !questions.isEmpty, let exe = try? FileSystem.executablePath(), // no binary: no question
              let items = try? FileSystem.readFile(itemsPath),
              let seeds = try? JSONScanner.members(ofTopLevelKey: "seeds", in: items).items, start - 1 < seeds.count,
              let seed = try? JSONScanner.stringMember("id", inObjectAt: seeds[start - 1].valueRange, of: items) else { return }
        for (id, replyTo) in questions {
            var argv = [exe, "send", "--to", "reviewer", "--type", "query", "--id", id,
                        "--body", #"{"seed":"\#(seed)","question":"which LEGOs cover its target?"}"#, "--wait", "--timeout", "1"]
            if let replyTo { argv += ["--reply-to", replyTo] }
            var request = SpawnRequest(argv: argv, outputPath: "/dev/null")
            request.outputDescriptor = 1 // the answer goes to this agent's log
            request.errorDescriptor = 2
            guard let pid = try? Spawner.spawn(request), let status = try? ProcessControl.waitBlocking(pid),
                  status == .exited(0) else { return } // no answer (a timeout, an error, a stuck thread): go on without
        }
    }

    func sleepFor(_ seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

/// A small, fast, seedable generator (SplitMix64), so the demo is the same every time.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
