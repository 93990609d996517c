import WatcherCore

/// `/timeline/RUN`: one row per concurrency slot, one bar per attempt from spawn to its last
/// transition, coloured by outcome, over the run's wall time (SVG). Gaps are idle slots.
enum TimelinePage {
    static func render(plan: RunPlan, records: [EventRecord], lastSeq: UInt64) -> String {
        let h = PageFrame.h, a = PageFrame.a
        let spans = AttemptSpans.collect(records.filter { $0.event.run == plan.run }).sorted { $0.start < $1.start }
        var s = "<h1>timeline of <a href=\"/run/\(a(plan.run))\">\(h(plan.run))</a></h1>"
        guard let t0 = spans.first?.start else {
            return PageFrame.render(title: "timeline", page: "timeline", boot: PageFrame.boot("timeline", lastSeq: lastSeq),
                                    body: s + "<p class=\"quiet\">no attempt yet</p>")
        }
        let lastTS = records.last.flatMap { EventFormatter.seconds($0.ts) } ?? t0
        let t1 = max(lastTS, spans.map(\.end).max() ?? t0, t0 + 0.001)
        // Greedy slot assignment: the lowest slot free at the bar's start.
        var slotEnds: [Double] = []
        var placed: [(AttemptSpan, Int, Double)] = []
        for span in spans {
            let end = span.active ? t1 : span.end
            if let i = slotEnds.firstIndex(where: { $0 <= span.start }) { slotEnds[i] = end; placed.append((span, i, end)) }
            else { slotEnds.append(end); placed.append((span, slotEnds.count - 1, end)) }
        }
        let width = 1000.0, row = 22.0, left = 60.0
        let height = Double(slotEnds.count) * row + 30
        let scale = (width - left - 10) / (t1 - t0)
        let busy = placed.reduce(0.0) { $0 + ($1.2 - $1.0.start) }
        let capacity = Double(max(slotEnds.count, 1)) * (t1 - t0)
        s += "<p>\(spans.count) attempts over \(PageFrame.duration(t1 - t0)) on \(slotEnds.count) slot(s) (concurrency \(plan.concurrency)); slots busy \(Int((busy / capacity * 100).rounded()))% of the time.</p>"
        s += "<svg class=\"timeline\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"attempts per slot\">"
        for i in 0..<slotEnds.count {
            s += "<text x=\"4\" y=\"\(Int(Double(i) * row + 15))\" class=\"axis\">slot \(i + 1)</text>"
        }
        for k in 0...4 {
            let x = left + Double(k) * (width - left - 10) / 4
            s += "<line x1=\"\(Int(x))\" y1=\"0\" x2=\"\(Int(x))\" y2=\"\(Int(height - 20))\" class=\"tick\"/><text x=\"\(Int(x))\" y=\"\(Int(height - 6))\" class=\"axis\"\(k == 4 ? " text-anchor=\"end\"" : "")>+\(tick((t1 - t0) * Double(k) / 4))</text>"
        }
        for (span, slot, end) in placed {
            let x = left + (span.start - t0) * scale
            let w = max(2, (end - span.start) * scale)
            let label = "\(span.id.phase)/\(span.id.index) attempt \(span.attempt): \(span.outcome), \(PageFrame.duration(end - span.start))\(span.reason.map { ", " + $0 } ?? "")"
            s += "<a href=\"/batch/\(a(span.id.run))/\(a(span.id.phase))/\(span.id.index)\"><rect x=\"\(String(format: x))\" y=\"\(Int(Double(slot) * row + 3))\" width=\"\(String(format: w))\" height=\"\(Int(row - 6))\" class=\"bar o-\(a(span.outcome))\"><title>\(h(label))</title></rect></a>"
        }
        s += "</svg>"
        return PageFrame.render(title: "timeline \(plan.run)", page: "timeline", boot: PageFrame.boot("timeline", lastSeq: lastSeq), body: s)
    }
}

/// An axis label: tenths of a second below a minute.
func tick(_ s: Double) -> String { s < 60 ? String((s * 10).rounded() / 10) + "s" : PageFrame.duration(s) }

extension String {
    /// A coordinate with one decimal.
    init(format value: Double) { self = String((value * 10).rounded() / 10) }
}
