import Foundation

/// What the scenarios found: tables and notes, printed as they come and written as Markdown.
final class Report {
    struct Table {
        var title: String?
        var header: [String]
        var rows: [[String]] = []
        /// Leading columns of text (left-aligned); the rest are figures.
        var textColumns = 1
    }

    struct Bar {
        var scenario: String
        var bar: String
        var measured: String
        /// nil: could not be measured here.
        var met: Bool?
    }

    final class Section {
        let number: Int
        let title: String
        var intro: [String] = []
        var tables: [Table] = []
        var notes: [String] = []
        var bars: [Bar] = []
        var seconds: Double = 0

        init(number: Int, title: String) {
            self.number = number
            self.title = title
        }
    }

    var sections: [Section] = []
    var header: [String] = []
    var footer: [String] = []

    func section(_ number: Int, _ title: String) -> Section {
        let s = Section(number: number, title: title)
        sections.append(s)
        return s
    }

    // MARK: Console

    static func text(_ table: Table) -> String {
        var widths = table.header.map(\.count)
        for row in table.rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let w = i < widths.count ? widths[i] : c.count
                return i == 0 ? c + String(repeating: " ", count: max(0, w - c.count))
                    : String(repeating: " ", count: max(0, w - c.count)) + c
            }.joined(separator: "  ")
        }
        var out = table.title.map { $0 + "\n" } ?? ""
        out += line(table.header) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for row in table.rows { out += line(row) + "\n" }
        return out
    }

    static func print(_ section: Section) {
        Out.line("\n== Scenario \(section.number): \(section.title) ==")
        for t in section.tables { Out.line(text(t)) }
        for b in section.bars {
            Out.line("BAR \(b.met == true ? "met   " : b.met == false ? "MISSED" : "n/a   ") \(b.bar): \(b.measured)")
        }
        for n in section.notes { Out.line("  - " + n) }
    }

    // MARK: Markdown

    static func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    static func markdown(_ table: Table) -> String {
        var out = table.title.map { "**\($0)**\n\n" } ?? ""
        out += "| " + table.header.map(cell).joined(separator: " | ") + " |\n"
        out += "|" + table.header.enumerated().map { i, _ in i < table.textColumns ? "---" : "---:" }.joined(separator: "|") + "|\n"
        for row in table.rows { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }

    func markdown() -> String {
        var out = header.joined(separator: "\n") + "\n"
        let bars = sections.flatMap(\.bars)
        if !bars.isEmpty {
            out += "\n## The bars\n\n"
            var t = Table(header: ["#", "bar (issue 5)", "measured here", "result"], textColumns: 4)
            for b in bars {
                t.rows.append([b.scenario, b.bar, b.measured, b.met == true ? "met" : b.met == false ? "**missed**" : "not measured"])
            }
            out += Report.markdown(t)
            let met = bars.filter { $0.met == true }
            if !met.isEmpty {
                out += "\nWhere a bar is met, the figure measured here is the new floor (issue 5): "
                    + met.map { "\($0.bar) — \($0.measured)" }.joined(separator: "; ") + ".\n"
            }
        }
        for s in sections {
            out += "\n## \(s.number). \(s.title)\n\n"
            for p in s.intro { out += p + "\n\n" }
            for t in s.tables { out += Report.markdown(t) + "\n" }
            if !s.bars.isEmpty {
                for b in s.bars {
                    out += "- Bar: \(b.bar) — **\(b.met == true ? "met" : b.met == false ? "missed" : "not measured")**: \(b.measured)\n"
                }
                out += "\n"
            }
            for n in s.notes { out += "- " + n + "\n" }
            if !s.notes.isEmpty { out += "\n" }
            out += "_Scenario time: \(fmtS(s.seconds))._\n"
        }
        if !footer.isEmpty { out += "\n" + footer.joined(separator: "\n") + "\n" }
        return out
    }
}

