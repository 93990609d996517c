import AgentWatcher
import DemoCourse
import WatcherCore
import WatcherSystem

/// The spa_for_eng course data (668 seeds, three phases) that the content of every
/// generated batch and main file comes from.
struct Course {
    struct Item {
        var id: String
        var raw: [UInt8]
    }

    var source: String
    var seedIDs: [String]
    /// Phase 1 answers: seed id -> `{"known", "target"}`.
    var translations: [String: [UInt8]]
    /// Phase 3 answers in course order: `{"seed_id", "seed_pair", "legos": [...]}`.
    var pairs: [Item]
    /// Phase 5 answers in file order: LEGO id -> basket.
    var baskets: [Item]
    /// Seed id -> ids of the LEGOs it introduces (`"new": true`).
    var newLegos: [String: [String]]
    /// Seed id -> `"known"` text, for the items file.
    var known: [String: String]

    /// From `../shared/fixtures/ssi-spa_for_eng/`, or the demo's embedded first 100 seeds.
    static func load(fixtures: String?, scratch: String) throws -> Course {
        let files: (String, String, String)
        let source: String
        if let f = fixtures {
            files = (f + "/seed_pairs.json", f + "/lego_pairs.json", f + "/lego_baskets.json")
            source = "\(f) (the full course)"
        } else {
            let root = scratch + "/demo-data"
            _ = try Demo(root: root, seed: 42, quiet: true).prepare()
            files = (root + "/answers/phase-1.json", root + "/answers/phase-3.json", root + "/answers/phase-5.json")
            source = "the demo's embedded first 100 seeds (shared/fixtures not found)"
        }
        let seedBytes = try FileSystem.readFile(files.0)
        var translations: [String: [UInt8]] = [:]
        var seedIDs: [String] = []
        var known: [String: String] = [:]
        for item in try JSONScanner.members(ofTopLevelKey: "translations", in: seedBytes).items {
            guard let id = item.key else { continue }
            seedIDs.append(id)
            let raw = Array(seedBytes[item.valueRange])
            translations[id] = raw
            known[id] = (try? JSONParser.parse(raw))?["known"]?.stringValue ?? ""
        }
        let pairBytes = try FileSystem.readFile(files.1)
        var pairs: [Item] = []
        var newLegos: [String: [String]] = [:]
        for item in try JSONScanner.members(ofTopLevelKey: "seeds", in: pairBytes).items {
            let raw = Array(pairBytes[item.valueRange])
            let value = try JSONParser.parse(raw)
            guard let id = value["seed_id"]?.stringValue else { continue }
            pairs.append(Item(id: id, raw: raw))
            newLegos[id] = (value["legos"]?.arrayValue ?? []).compactMap { l in
                l["new"]?.boolValue == true ? l["id"]?.stringValue : nil
            }
        }
        let basketBytes = try FileSystem.readFile(files.2)
        var baskets: [Item] = []
        for item in try JSONScanner.members(ofTopLevelKey: "baskets", in: basketBytes).items {
            if let id = item.key { baskets.append(Item(id: id, raw: Array(basketBytes[item.valueRange]))) }
        }
        return Course(source: source, seedIDs: seedIDs, translations: translations, pairs: pairs,
                      baskets: baskets, newLegos: newLegos, known: known)
    }

    /// One line of compact JSON for a raw value (the fixture's items are pretty-printed).
    static func compact(_ raw: [UInt8]) -> [UInt8] {
        (try? JSONParser.parse(raw).serialized()) ?? raw
    }

    /// A copy of a phase 3 item under another seed id.
    static func renamedPair(_ raw: [UInt8], to id: String) -> [UInt8] {
        guard case .object(var members)? = try? JSONParser.parse(raw) else { return raw }
        if let i = members.firstIndex(where: { $0.key == "seed_id" }) { members[i].value = .string(id) }
        return JSONValue.object(members).serialized()
    }
}

/// Writes `{"<key>": {<id>: <raw>, ...}}` or `{"<key>": [<raw>, ...]}` with one item per line.
func containerText(key: String, object: Bool, items: [(id: String, raw: [UInt8])], extraTop: String = "") -> [UInt8] {
    var out: [UInt8] = Array("{\n".utf8)
    if !extraTop.isEmpty { out += Array(extraTop.utf8) }
    out += Array("  \(jstr(key)): \(object ? "{" : "[")".utf8)
    for (i, item) in items.enumerated() {
        out += Array((i == 0 ? "\n    " : ",\n    ").utf8)
        if object { out += Array("\(jstr(item.id)): ".utf8) }
        out += item.raw
    }
    out += Array((items.isEmpty ? "" : "\n  ").utf8) + Array("\(object ? "}" : "]")\n}\n".utf8)
    return out
}

/// `{"items": [{"id": "..."}, ...]}`: the run's item list.
func itemsFileText(_ ids: [String]) -> [UInt8] {
    var out: [UInt8] = Array("{\"items\": [\n".utf8)
    for (i, id) in ids.enumerated() {
        out += Array("  {\"id\": \(jstr(id))}\(i + 1 < ids.count ? "," : "")\n".utf8)
    }
    out += Array("]}\n".utf8)
    return out
}
