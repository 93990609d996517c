import WatcherCore

/// `/timeline/RUN`: one row per concurrency slot, one bar per attempt from spawn to its last
/// transition, coloured by outcome, over the run's wall time (SVG); idle stretches hatched, the
/// critical path outlined and joined by a line (``TimelineModel``).
enum TimelinePage {
    static func render(plan: RunPlan, records: [EventRecord], lastSeq: UInt64) -> String {
        let h = PageFrame.h, a = PageFrame.a
        let spans = AttemptSpans.collect(records.filter { $0.event.run == plan.run })
        var s = "<h1>timeline of <a href=\"/run/\(a(plan.run))\">\(h(plan.run))</a></h1>"
        let lastTS = records.last.flatMap { EventFormatter.seconds($0.ts) } ?? 0
        guard let m = TimelineModel.build(spans: spans, concurrency: plan.concurrency, end: lastTS, dependency: plan.dependency(of:)) else {
            return PageFrame.render(title: "timeline", page: "timeline", boot: PageFrame.boot("timeline", lastSeq: lastSeq),
                                    body: s + "<p class=\"quiet\">no attempt yet</p>")
        }
        let critical = m.criticalBars
        s += "<p id=\"timeline-summary\">\(m.bars.count) attempts over \(PageFrame.duration(m.wall)) on \(m.slots) slot(s) (concurrency \(plan.concurrency)); "
        s += "slots busy \(Int((m.busyFraction * 100).rounded()))% of the time, idle \(PageFrame.duration(m.idleSeconds)) in all.</p>"
        s += "<p class=\"legend\"><span class=\"key crit\"></span> critical path: <b id=\"critical-count\">\(critical.count)</b> attempt(s), "
        s += "\(PageFrame.duration(m.criticalSeconds)) of the \(PageFrame.duration(m.wall)): the chain that ends with the last attempt to end, each waiting for the one before "
        s += "(an earlier attempt, the batch it depends on, or a free slot) · <span class=\"key idle\"></span> idle slot</p>"
        let width = 1000.0, row = 22.0, left = 60.0
        let height = Double(m.slots) * row + 30
        let scale = (width - left - 10) / m.wall
        func x(_ t: Double) -> String { String(format: left + (t - m.t0) * scale) }
        func w(_ a: Double, _ b: Double) -> String { String(format: max(2, (b - a) * scale)) }
        s += "<svg class=\"timeline\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"attempts per slot\">"
        for i in 0..<m.slots {
            s += "<text x=\"4\" y=\"\(Int(Double(i) * row + 15))\" class=\"axis\">slot \(i + 1)</text>"
        }
        for k in 0...4 {
            let xk = left + Double(k) * (width - left - 10) / 4
            s += "<line x1=\"\(Int(xk))\" y1=\"0\" x2=\"\(Int(xk))\" y2=\"\(Int(height - 20))\" class=\"tick\"/><text x=\"\(Int(xk))\" y=\"\(Int(height - 6))\" class=\"axis\"\(k == 4 ? " text-anchor=\"end\"" : "")>+\(tick(m.wall * Double(k) / 4))</text>"
        }
        for gap in m.idle {
            s += "<rect x=\"\(x(gap.start))\" y=\"\(Int(Double(gap.slot) * row + 3))\" width=\"\(w(gap.start, gap.end))\" height=\"\(Int(row - 6))\" class=\"idle\"><title>slot \(gap.slot + 1) idle \(h(PageFrame.duration(gap.end - gap.start)))</title></rect>"
        }
        for bar in m.bars {
            let span = bar.span
            let label = "\(span.id.phase)/\(span.id.index) attempt \(span.attempt): \(span.outcome), \(PageFrame.duration(bar.end - bar.start))\(span.reason.map { ", " + $0 } ?? "")\(bar.critical ? " (critical path)" : "")"
            s += "<a href=\"/batch/\(a(span.id.run))/\(a(span.id.phase))/\(span.id.index)\"><rect x=\"\(x(bar.start))\" y=\"\(Int(Double(bar.slot) * row + 3))\" width=\"\(w(bar.start, bar.end))\" height=\"\(Int(row - 6))\" class=\"bar o-\(a(span.outcome))\(bar.critical ? " crit" : "")\"><title>\(h(label))</title></rect></a>"
        }
        // The critical path as one line through its bars, in time order.
        let points = critical.sorted { $0.start < $1.start }.flatMap { b -> [String] in
            let y = String(format: Double(b.slot) * row + row / 2)
            return ["\(x(b.start)),\(y)", "\(x(b.end)),\(y)"]
        }
        if points.count >= 2 { s += "<polyline class=\"critline\" points=\"\(points.joined(separator: " "))\"/>" }
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
