import WatcherCore

/// The HTML around every page: the stylesheet and script from `/assets/`, the navigation,
/// and the page's boot data as JSON in a non-executed `<script type="application/json">`.
enum PageFrame {
    static func render(title: String, page: String, boot: JSONValue, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTMLEscape.text(title)) · agent-watcher</title>
        <link rel="icon" href="/assets/icon.svg" type="image/svg+xml"><link rel="stylesheet" href="/assets/app.css"><script src="/assets/app.js" defer></script></head>
        <body data-page="\(HTMLEscape.attribute(page))">
        <script type="application/json" id="boot">\(HTMLEscape.jsonInScript(boot))</script>
        <header><a class="brand" href="/">agent-watcher</a><nav><a href="/">Overview</a><a href="/events">Events</a><a href="/messages">Messages</a></nav><span id="live" class="live off" title="live updates">●</span></header>
        <main>\(body)</main>
        </body></html>
        """
    }

    static func boot(_ page: String, lastSeq: UInt64, _ extra: [(String, JSONValue)] = []) -> JSONValue {
        .object([("page", .string(page)), ("seq", .number(Double(lastSeq)))] + extra)
    }

    static func duration(_ s: Double) -> String {
        if s < 60 { return String(Int(s.rounded())) + "s" }
        if s < 3600 { return "\(Int(s) / 60)m\(Int(s) % 60)s" }
        return "\(Int(s) / 3600)h\(Int(s) % 3600 / 60)m"
    }

    /// Hostile text, escaped for element content.
    static func h(_ s: String) -> String { HTMLEscape.text(s) }
    /// Hostile text, escaped for a quoted attribute.
    static func a(_ s: String) -> String { HTMLEscape.attribute(s) }
}
