/// What the dashboard's timeline draws for a run, decided from its attempts alone: one row per
/// concurrency slot, each attempt a bar on the lowest slot free at its spawn, the idle stretches
/// of every slot, and the critical path: the chain of attempts that ends with the last one to
/// end, each linked to what it waited for (an earlier attempt of its batch, the batch it
/// depends on, or the attempt whose end freed its slot).
public struct TimelineModel: Sendable {
    public struct Bar: Equatable, Sendable {
        public var span: AttemptSpan
        public var slot: Int
        public var start: Double
        /// The span's end; the axis's end for an attempt still going on.
        public var end: Double
        public var critical = false
    }

    public struct Idle: Equatable, Sendable {
        public var slot: Int
        public var start: Double
        public var end: Double
    }

    public var t0: Double
    public var t1: Double
    /// Rows: the concurrency, or more when more attempts overlapped (the concurrency changed).
    public var slots: Int
    public var bars: [Bar]
    public var idle: [Idle]

    public var wall: Double { t1 - t0 }
    public var criticalBars: [Bar] { bars.filter(\.critical) }
    public var criticalSeconds: Double { criticalBars.reduce(0) { $0 + $1.end - $1.start } }
    public var idleSeconds: Double { idle.reduce(0) { $0 + $1.end - $1.start } }
    /// The share of slot time spent running attempts.
    public var busyFraction: Double {
        let capacity = Double(slots) * wall
        return capacity > 0 ? max(0, 1 - idleSeconds / capacity) : 0
    }

    /// `end`: the axis's end (the last record's time); `dependency`: the batch a batch waits for.
    public static func build(spans: [AttemptSpan], concurrency: Int, end: Double,
                             dependency: (BatchID) -> BatchID?) -> TimelineModel? {
        let sorted = spans.sorted { ($0.start, $0.id, $0.attempt) < ($1.start, $1.id, $1.attempt) }
        guard let t0 = sorted.first?.start else { return nil }
        let t1 = max(end, sorted.map(\.end).max() ?? t0, t0 + 0.001)
        var slotEnds: [Double] = []
        var bars: [Bar] = []
        var idle: [Idle] = []
        for span in sorted {
            let e = span.active ? t1 : span.end
            let slot: Int
            if let i = slotEnds.firstIndex(where: { $0 <= span.start }) { slot = i } else { slotEnds.append(t0); slot = slotEnds.count - 1 }
            if span.start > slotEnds[slot] { idle.append(Idle(slot: slot, start: slotEnds[slot], end: span.start)) }
            slotEnds[slot] = max(e, span.start)
            bars.append(Bar(span: span, slot: slot, start: span.start, end: max(e, span.start)))
        }
        let slots = max(concurrency, slotEnds.count, 1)
        for s in 0..<slots {
            let last = s < slotEnds.count ? slotEnds[s] : t0
            if last < t1 { idle.append(Idle(slot: s, start: last, end: t1)) }
        }
        var model = TimelineModel(t0: t0, t1: t1, slots: slots, bars: bars, idle: idle.sorted { ($0.slot, $0.start) < ($1.slot, $1.start) })
        model.markCriticalPath(dependency: dependency)
        return model
    }

    /// Walks back from the bar that ends last. Each step takes the bar that ended last at or
    /// before this one's start, unless an earlier attempt of the same batch or of the batch it
    /// depends on ended nearly as late (within a tolerance): then that one, the reason it waited.
    mutating func markCriticalPath(dependency: (BatchID) -> BatchID?) {
        guard !bars.isEmpty else { return }
        let byEnd = bars.indices.sorted { bars[$0].end < bars[$1].end }
        var byBatch: [BatchID: [Int]] = [:]
        for i in bars.indices { byBatch[bars[i].span.id, default: []].append(i) }
        let tolerance = max(1, wall * 0.02)
        var current = byEnd[byEnd.count - 1]
        var seen = Set<Int>()
        while seen.insert(current).inserted {
            bars[current].critical = true
            let start = bars[current].start
            // The last bar (in end order) that ended at or before `start`.
            var lo = 0, hi = byEnd.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if bars[byEnd[mid]].end <= start { lo = mid + 1 } else { hi = mid }
            }
            guard lo > 0 else { return }
            let latest = byEnd[lo - 1]
            let id = bars[current].span.id
            let related = (byBatch[id] ?? []).filter { bars[$0].span.attempt < bars[current].span.attempt }
                + (dependency(id).flatMap { byBatch[$0] } ?? [])
            let reason = related.filter { bars[$0].end <= start && bars[$0].end >= bars[latest].end - tolerance }
                .max { bars[$0].end < bars[$1].end }
            current = reason ?? latest
        }
    }
}
