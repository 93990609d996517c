import WatcherCore
import WatcherSystem

/// One run as the daemon sees it: its spec, where its files are, its items, and the lookups
/// prompts, validation and merging need.
public final class RunContext {
    public let spec: PipelineSpec
    public let specPath: String
    public let baseDir: String
    /// The plan in force: the spec's, cut as the log fixed it (see `PlanFacts`).
    public internal(set) var plan: RunPlan
    public let itemIDs: [String]
    let itemRaw: [[UInt8]]
    /// Whether the items file keys its items by id (an object container) or lists them.
    let itemsKeyed: Bool
    let positionOf: [String: Int]
    /// The rule sets the spec's phases may name; every phase's `rules` is one of them.
    public let rules: RuleRegistry

    public init(spec: PipelineSpec, specPath: String, rules: RuleRegistry) throws {
        let ruleProblems = spec.ruleProblems(knownRules: rules.names)
        if !ruleProblems.isEmpty { throw SpecError(path: specPath, problems: ruleProblems) }
        self.rules = rules
        self.spec = spec
        self.specPath = specPath
        self.baseDir = RunContext.folder(of: specPath)
        let itemsPath = RunContext.resolve(spec.items.file, in: baseDir)
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(itemsPath) } catch {
            throw SpecError(path: specPath, problems: ["items.file: cannot read \(itemsPath): \(error)"])
        }
        do {
            let (keyed, items) = try RunContext.scanKeyedItems(bytes, key: spec.items.key, idField: spec.items.idField)
            itemIDs = items.map(\.id)
            itemRaw = items.map(\.raw)
            itemsKeyed = keyed
        } catch {
            throw SpecError(path: specPath, problems: ["items.file: \(itemsPath): \(error)"])
        }
        var positions: [String: Int] = [:]
        for (i, id) in itemIDs.enumerated() {
            if positions[id] != nil {
                throw SpecError(path: specPath, problems: ["items.file: \(itemsPath): item id \"\(id)\" appears twice"])
            }
            positions[id] = i
        }
        positionOf = positions
        plan = RunPlan(spec: spec, itemCount: itemIDs.count)
    }

    public var run: String { spec.run }

    /// What fixes this run's batches, as `run.started` / `run.extended` log it.
    public var facts: PlanFacts {
        PlanFacts(batchSize: plan.batchSize, segments: plan.segments, itemIDs: itemIDs,
                  phases: spec.phaseShapes, settings: spec.settings)
    }

    /// Takes the plan the log fixed (`logged`), grown by what `check` found appended.
    func adopt(_ logged: PlanFacts, check: PlanCheck) {
        var p = plan
        p.segments = logged.segments + (check.appendedItems > 0 ? [check.appendedItems] : [])
        plan = p
    }

    /// The folder of a spec file: paths in the spec are relative to it.
    static func folder(of specPath: String) -> String {
        specPath.lastIndex(of: "/").map { String(specPath[..<$0]) } ?? "."
    }

    static func resolve(_ path: String, in base: String) -> String {
        path.hasPrefix("/") ? path : base + "/" + path
    }

    public func resolve(_ path: String) -> String { RunContext.resolve(path, in: baseDir) }

    public func phase(_ id: String) -> PipelineSpec.PhaseSpec? { spec.phases.first { $0.id == id } }

    public func mainPath(_ phase: PipelineSpec.PhaseSpec) -> String { resolve(phase.output.file) }

    /// The folders holding the phases' main files.
    public var mainFolders: [String] {
        spec.phases.compactMap { phase in
            let main = mainPath(phase)
            return main.lastIndex(of: "/").map { String(main[..<$0]) }
        }
    }

    /// The ids of the run's items that batch `index` covers.
    public func ids(ofBatch index: Int) -> [String] { Array(itemIDs[plan.itemRange(ofBatch: index)]) }

    /// Which batch an item id belongs to: its own position, or the position of the item whose
    /// id it starts with (a derived id such as LEGO `S0001L01` of seed `S0001`).
    public func batchOf(_ id: String) -> Int? {
        if let p = positionOf[id] { return plan.batch(ofItemAt: p) }
        var prefix = Substring(id)
        while !prefix.isEmpty {
            prefix = prefix.dropLast()
            if let p = positionOf[String(prefix)] { return plan.batch(ofItemAt: p) }
        }
        return nil
    }

    /// Items of a container: ids (object keys or `idField` members) with their raw bytes.
    public static func scanItems(_ bytes: [UInt8], key: String?, idField: String?) throws -> [(id: String, raw: [UInt8])] {
        try scanKeyedItems(bytes, key: key, idField: idField).items
    }

    /// The items of a container, and whether it keys them by id (an object) or lists them.
    static func scanKeyedItems(_ bytes: [UInt8], key: String?, idField: String?) throws
        -> (keyed: Bool, items: [(id: String, raw: [UInt8])]) {
        let container = try key.map { k throws in try JSONScanner.members(ofTopLevelKey: k, in: bytes) }
            ?? JSONScanner.topLevel(in: bytes)
        return (container.kind == .object, try container.items.map { item in
            let raw = Array(bytes[item.valueRange])
            if let k = item.key { return (k, raw) }
            guard let field = idField else {
                throw SpecError(path: "", problems: ["the items form an array: set idField to the member holding each id"])
            }
            guard let id = try JSONScanner.stringMember(field, inObjectAt: item.valueRange, of: bytes) else {
                throw SpecError(path: "", problems: ["an item at byte \(item.valueRange.lowerBound) has no string \"\(field)\""])
            }
            return (id, raw)
        })
    }

    /// The input items of a batch: the run's items, or the merged items of the input phase
    /// whose ids fall in the batch's range (in the input phase's main-file order).
    public func inputItems(for id: BatchID) throws -> [(id: String, raw: [UInt8])] {
        guard let phase = phase(id.phase) else { return [] }
        guard let source = spec.inputPhase(of: phase) else {
            return plan.itemRange(ofBatch: id.index).map { (itemIDs[$0], itemRaw[$0]) }
        }
        let path = mainPath(source)
        guard FileSystem.exists(path) else { return [] }
        let bytes = try FileSystem.readRegularFile(path) // a FIFO planted there is never waited on
        // An item of this batch: one of its ids, or an id derived from one (`S0001L01` of `S0001`).
        func wanted(_ itemID: String) -> Bool { batchOf(itemID) == id.index }
        if source.output.strategy == .jsonl {
            return try JSONScanner.lines(in: bytes).compactMap { r in
                let v = try JSONParser.parse(bytes[r])
                guard let itemID = v[source.output.idField ?? "id"]?.stringValue, wanted(itemID) else { return nil }
                return (itemID, Array(bytes[r]))
            }
        }
        return try RunContext.scanItems(bytes, key: source.output.key, idField: source.output.idField)
            .filter { wanted($0.id) }
    }

    /// The input items as JSON text, for the prompt: keyed by id as an object when their source
    /// keys them (the items file's object, an `object`-strategy phase), else an array whose items
    /// hold their ids.
    public func inputJSON(for id: BatchID) throws -> [UInt8] {
        let keyed: Bool
        if let phase = phase(id.phase), let source = spec.inputPhase(of: phase) {
            keyed = source.output.strategy == .object
        } else {
            keyed = itemsKeyed
        }
        return PromptRenderer.inputJSON(try inputItems(for: id), keyed: keyed)
    }

    public func instructions(for phase: PipelineSpec.PhaseSpec) throws -> String {
        guard let file = phase.instructions else {
            return "# Phase \(phase.id)\(phase.name.map { ": " + $0 } ?? "")\n\nProcess every input item below."
        }
        return String(decoding: try FileSystem.readFile(resolve(file)), as: UTF8.self)
    }
}
