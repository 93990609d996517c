/// What fixes a run's batches, as `run.started` and `run.extended` record it: the batch size,
/// the item segments, a digest of the ordered item ids, and each phase's shape (id, merge
/// strategy, input, main file). The plan is a fact of the log: a spec may change what is done
/// next, never what a logged batch was. Also the run's settings as last logged, so a changed
/// setting is logged (`spec.changed`) with its old and new value.
public struct PlanFacts: Equatable, Sendable {
    public var batchSize: Int
    public var segments: [Int]
    /// SHA-256 of the item ids joined by `\n`; nil in logs written before it was recorded.
    public var itemsDigest: String?
    public var lastItem: String?
    public var phases: [PhaseShape]
    /// Setting key to its value's text (see `PipelineSpec.settings`); empty in older logs.
    public var settings: [String: String]

    /// One phase's part of the plan. In logs older than this record only `id` is known.
    public struct PhaseShape: Equatable, Sendable {
        public var id: String
        public var strategy: String?
        public var input: String?
        public var file: String?

        public init(id: String, strategy: String?, input: String?, file: String?) {
            self.id = id
            self.strategy = strategy
            self.input = input
            self.file = file
        }

        /// `id|strategy|input|file`, as logged in `phase_plan`.
        public var text: String { [id, strategy ?? "", input ?? "", file ?? ""].joined(separator: "|") }

        public init(text: String) {
            let parts = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            func part(_ i: Int) -> String? { i < parts.count && !parts[i].isEmpty ? parts[i] : nil }
            self.init(id: parts.first ?? text, strategy: part(1), input: part(2), file: part(3))
        }
    }

    public init(batchSize: Int, segments: [Int], itemIDs: [String], phases: [PhaseShape], settings: [String: String]) {
        self.batchSize = batchSize
        self.segments = segments
        self.itemsDigest = Self.digest(itemIDs[...])
        self.lastItem = itemIDs.last
        self.phases = phases
        self.settings = settings
    }

    public var itemCount: Int { segments.reduce(0, +) }

    public static func digest(_ ids: ArraySlice<String>) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 8)
        for (i, id) in ids.enumerated() {
            if i > 0 { bytes.append(0x0A) }
            bytes += id.utf8
        }
        return SHA256.hex(bytes)
    }

    /// The details `run.started` and `run.extended` carry besides their counts.
    public var details: [Event.Detail] {
        var d: [Event.Detail] = [
            .init("segments", .strings(segments.map(String.init))),
            .init("phase_plan", .strings(phases.map(\.text))),
        ]
        if let itemsDigest { d.append(.init("items_digest", .string(itemsDigest))) }
        if let lastItem { d.append(.init("last_item", .string(lastItem))) }
        d.append(.init("settings", .strings(Self.settingLines(settings))))
        return d
    }

    static func settingLines(_ settings: [String: String]) -> [String] {
        settings.keys.sorted().map { "\($0)=\(settings[$0] ?? "")" }
    }

    static func parseSettings(_ lines: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for line in lines {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }

    /// The facts of a `run.started` record (any schema: older ones lack digest and shapes).
    public init?(runStarted e: Event) {
        guard e.event == EventName.runStarted, let size = e.int("batch_size"), let items = e.int("items") else { return nil }
        batchSize = size
        segments = e.strings("segments")?.compactMap { Int($0) } ?? [items]
        itemsDigest = e.string("items_digest")
        lastItem = e.string("last_item")
        phases = e.strings("phase_plan")?.map(PhaseShape.init(text:))
            ?? (e.strings("phases") ?? []).map { PhaseShape(id: $0, strategy: nil, input: nil, file: nil) }
        settings = Self.parseSettings(e.strings("settings") ?? [])
    }

    /// Folds a later record of the run: `run.extended` (new segments, phases, digest) and
    /// `spec.changed` (new settings).
    public mutating func fold(_ e: Event) {
        switch e.event {
        case EventName.runExtended:
            if let s = e.strings("segments") { segments = s.compactMap { Int($0) } }
            if let p = e.strings("phase_plan") { phases = p.map(PhaseShape.init(text:)) }
            if let d = e.string("items_digest") { itemsDigest = d }
            if let l = e.string("last_item") { lastItem = l }
            if let s = e.strings("settings") { settings = Self.parseSettings(s) }
        case EventName.specChanged:
            if let s = e.strings("settings") { settings = Self.parseSettings(s) }
        default:
            break
        }
    }
}
