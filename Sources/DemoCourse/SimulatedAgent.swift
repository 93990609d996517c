import Glibc
import AgentWatcher
import WatcherCore
import WatcherSystem

/// The demo's agent (`agent-watcher simulate-agent`): reads its prompt like a real agent,
/// takes 0.05-0.5 s, and writes the batch from an answer key the way a real agent would
/// (in place, or under `outbox/tmp/` and renamed). With a fixed seeded probability it writes
/// a flawed output instead: a missing item, a broken item, invalid JSON, nothing, or it hangs.
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
        return (seconds, flawed ? flaw : nil, rename, rng)
    }

    public func run() throws -> Int32 {
        // Read the prompt like a real agent does (and so never leave a writer blocked on a pipe).
        _ = try FileDescriptor(owning: 0).readAll()
        var (seconds, flaw, rename, rng) = plan()
        sleepFor(seconds)
        if flaw == .hang { while true { sleepFor(3600) } }
        if flaw == .nothing { return 0 }
        var bytes = try batchBytes(flaw: flaw, rng: &rng)
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

    /// The batch as the answer key has it: `{"<key>": <container of this batch's items>}`.
    func batchBytes(flaw: Flaw?, rng: inout SplitMix64) throws -> [UInt8] {
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
        var chosen: [(key: String?, raw: [UInt8])] = []
        for item in container.items {
            let id = try item.key ?? JSONScanner.stringMember("seed_id", inObjectAt: item.valueRange, of: answers) ?? ""
            if belongs(id) { chosen.append((item.key, Array(answers[item.valueRange]))) }
        }
        if let flaw, !chosen.isEmpty {
            let victim = Int(rng.next() % UInt64(chosen.count))
            if flaw == .missingItem { chosen.remove(at: victim) }
            if flaw == .brokenItem {
                chosen[victim].raw = chosen[victim].key == nil
                    ? Array("{\"seed_id\": \"\(ids.first ?? "")\", \"legos\": []}".utf8) : Array("{}".utf8)
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
