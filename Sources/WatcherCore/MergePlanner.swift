/// One item of a batch output: its id, its exact bytes in the batch file, and its parsed value.
///
/// For the `object` strategy `raw`/`value` are the member's value (the id is
/// the key); for `array` and `jsonl` they are the whole element or line.
public struct BatchItem: Equatable, Sendable {
    public var id: String
    public var raw: [UInt8]
    public var value: JSONValue

    public init(id: String, raw: [UInt8], value: JSONValue) {
        self.id = id
        self.raw = raw
        self.value = value
    }

    /// An item whose raw bytes are the value's compact serialisation.
    public init(id: String, value: JSONValue) {
        self.init(id: id, raw: value.serialized(), value: value)
    }
}

/// An item id that the main file already holds with different content.
public struct MergeConflict: Equatable, Sendable, CustomStringConvertible {
    public var id: String
    public var reason: String

    public init(id: String, reason: String) {
        self.id = id
        self.reason = reason
    }

    public var description: String { "\(id): \(reason)" }
}

/// What to do with the main file.
public enum MergeOutcome: Equatable, Sendable {
    /// Replace the main file with `newBytes` (atomically); `inserted` items were added.
    case write(newBytes: [UInt8], inserted: Int)
    /// Every batch item is already present with equal content: nothing to write.
    case alreadyMerged
    /// Some ids are present with different content: nothing may be written.
    case conflict([MergeConflict])
}

/// The main file (or template) cannot be merged into: it is malformed or has
/// no container of the expected kind. Not the batch's fault.
public struct MergePlanError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Everything needed to plan one batch's merge.
public struct MergeRequest {
    public var strategy: MergeStrategy
    /// The main file's top-level member holding the container ("translations",
    /// "seeds", "baskets"); nil when the main file's top level is the container
    /// (or, for jsonl, is the lines).
    public var itemsKey: String?
    /// For `array` and `jsonl`: the member of each item holding its id ("seed_id").
    public var idField: String?
    /// The current main file; empty when it does not exist yet.
    public var main: [UInt8]
    /// JSON text the main file starts as when it does not exist yet, e.g.
    /// `{"course":"x","translations":{}}`. If it lacks `itemsKey`, the member
    /// is added. Default: see ``MergePlanner/defaultTemplate(strategy:itemsKey:)``.
    public var template: [UInt8]?
    public var batchIndex: Int
    /// The batch's items, in batch order.
    public var batchItems: [BatchItem]
    /// Which batch an item id already in the main file belongs to; nil means
    /// unknown, treated as belonging before every batch.
    public var batchOf: (String) -> Int?

    public init(
        strategy: MergeStrategy, itemsKey: String? = nil, idField: String? = nil,
        main: [UInt8], template: [UInt8]? = nil, batchIndex: Int, batchItems: [BatchItem],
        batchOf: @escaping (String) -> Int? = { _ in nil }
    ) {
        self.strategy = strategy
        self.itemsKey = itemsKey
        self.idField = idField
        self.main = main
        self.template = template
        self.batchIndex = batchIndex
        self.batchItems = batchItems
        self.batchOf = batchOf
    }
}

/// An item found in the main file.
public struct ExistingItem: Equatable, Sendable {
    /// The item id; nil for an array element or line without a string id.
    public var id: String?
    /// The object member's key token; nil for array elements and lines.
    public var keyRange: Range<Int>?
    /// The value bytes: the member's value, the whole element, or the whole line (trimmed).
    public var valueRange: Range<Int>

    public init(id: String?, keyRange: Range<Int>?, valueRange: Range<Int>) {
        self.id = id
        self.keyRange = keyRange
        self.valueRange = valueRange
    }

    /// From the key (if any) to the end of the value.
    public var range: Range<Int> { (keyRange?.lowerBound ?? valueRange.lowerBound)..<valueRange.upperBound }
}

/// Plans merging one batch into the main file by splicing bytes: the main
/// file is scanned (``JSONScanner``), never parsed as a whole or re-serialised.
///
/// - Placement: items end up in batch order whatever order batches finish
///   in. The batch's new items are inserted, in the batch's order, right
///   before the first existing item whose `batchOf(id)` is greater than
///   `batchIndex`, or at the end of the container.
/// - Idempotence: an id already present with equal content (compared as
///   parsed ``JSONValue``s, so formatting does not matter) is not inserted
///   again; when all are present the outcome is `.alreadyMerged`.
/// - Conflicts: an id present with different content (or twice in the batch
///   with different content) makes the outcome `.conflict`, and nothing is written.
/// - Partial presence (some ids present and equal, others absent) cannot
///   result from this planner's own writes, because the caller replaces the
///   main file atomically with a whole batch; it may come from a hand edit or
///   an older tool. The absent items are inserted as a block at the
///   placement point, the present ones stay where they are.
/// - Formatting: each item goes on its own line with the indentation and
///   separators of the existing items (`,` + line break + indent, and the
///   `": "` between key and value); an empty container gets its items
///   indented two spaces deeper than the container's line. Multi-line raw
///   values are re-indented to their new depth. In a main file whose items
///   share a line, inserted items follow that style and multi-line values are
///   written compact. jsonl lines are written compact (re-serialised if the
///   raw bytes hold line breaks).
public enum MergePlanner {
    public static func plan(_ request: MergeRequest) throws(MergePlanError) -> MergeOutcome {
        let existed = !isBlank(request.main)
        var main = request.main
        if !existed {
            if let template = request.template, !isBlank(template) {
                main = template
            } else {
                main = defaultTemplate(strategy: request.strategy, itemsKey: request.itemsKey)
            }
        }
        let layout = try layout(
            of: main, strategy: request.strategy, itemsKey: request.itemsKey,
            idField: request.idField, addingMissingKey: true)
        main = layout.bytes

        // Where the batch's ids already are (first occurrence). Only the batch's ids are put in
        // the table: looking each existing id up in a small table is much cheaper than building a
        // table of every id of a large main file on every merge.
        var positionOfId: [String: Int] = [:]
        var wanted: Set<String> = []
        wanted.reserveCapacity(request.batchItems.count)
        for item in request.batchItems { wanted.insert(item.id) }
        if !wanted.isEmpty {
            for (position, item) in layout.items.enumerated() {
                if let id = item.id, wanted.contains(id), positionOfId[id] == nil { positionOfId[id] = position }
            }
        }

        var conflicts: [MergeConflict] = []
        var toInsert: [BatchItem] = []
        var seenInBatch: [String: JSONValue] = [:]
        for item in request.batchItems {
            if let earlier = seenInBatch[item.id] {
                if earlier != item.value {
                    conflicts.append(MergeConflict(id: item.id, reason: "the batch holds this id twice with different content"))
                }
                continue
            }
            seenInBatch[item.id] = item.value
            guard let position = positionOfId[item.id] else {
                toInsert.append(item)
                continue
            }
            let range = layout.items[position].valueRange
            let existing: JSONValue
            do throws(JSONParseError) {
                existing = try JSONParser.parse(main[range])
            } catch {
                conflicts.append(MergeConflict(id: item.id, reason: "the main file's value for this id is not valid JSON (\(error))"))
                continue
            }
            if existing != item.value {
                conflicts.append(MergeConflict(id: item.id, reason: differenceReason(existing, item.value)))
            }
        }
        if !conflicts.isEmpty { return .conflict(conflicts) }
        if toInsert.isEmpty {
            return existed ? .alreadyMerged : .write(newBytes: main, inserted: 0)
        }

        let position = layout.items.firstIndex { item in
            guard let id = item.id, let batch = request.batchOf(id) else { return false }
            return batch > request.batchIndex
        } ?? layout.items.count

        let newBytes: [UInt8]
        if let container = layout.container {
            newBytes = splice(
                toInsert, into: main, container: container, items: layout.items,
                at: position, keyed: request.strategy == .object)
        } else {
            newBytes = spliceLines(toInsert, into: main, items: layout.items, at: position)
        }
        return .write(newBytes: newBytes, inserted: toInsert.count)
    }

    /// The items of the main file in file order. An empty (or blank) main file has none.
    public static func existingItems(
        in main: [UInt8], strategy: MergeStrategy, itemsKey: String?, idField: String?
    ) throws(MergePlanError) -> [ExistingItem] {
        if isBlank(main) { return [] }
        return try layout(of: main, strategy: strategy, itemsKey: itemsKey, idField: idField, addingMissingKey: false).items
    }

    /// The ids present in the main file, each with its value range (first occurrence).
    public static func presentIds(
        in main: [UInt8], strategy: MergeStrategy, itemsKey: String?, idField: String?
    ) throws(MergePlanError) -> [String: Range<Int>] {
        var result: [String: Range<Int>] = [:]
        for item in try existingItems(in: main, strategy: strategy, itemsKey: itemsKey, idField: idField) {
            if let id = item.id, result[id] == nil { result[id] = item.valueRange }
        }
        return result
    }

    /// The main file a merge starts from when there is neither a main file nor
    /// a template: `{\n  "<itemsKey>": {}\n}\n` (or `[]`), a bare `{}`/`[]`
    /// when `itemsKey` is nil, and nothing for jsonl.
    public static func defaultTemplate(strategy: MergeStrategy, itemsKey: String?) -> [UInt8] {
        let empty: String
        switch strategy {
        case .jsonl: return []
        case .object: empty = "{}"
        case .array: empty = "[]"
        }
        guard let itemsKey else { return Array("\(empty)\n".utf8) }
        var out = Array("{\n  ".utf8)
        JSONValue.writeString(itemsKey, into: &out)
        out.append(contentsOf: ": \(empty)\n}\n".utf8)
        return out
    }
}

// MARK: - Reading the main file

extension MergePlanner {
    struct Layout {
        var bytes: [UInt8]
        /// nil for jsonl.
        var container: ScannedContainer?
        var items: [ExistingItem]
    }

    static func isBlank(_ bytes: [UInt8]) -> Bool {
        bytes.allSatisfy(JSONByte.isWhitespace)
    }

    static func scan(
        _ body: () throws(JSONScanError) -> ScannedContainer
    ) -> Result<ScannedContainer, JSONScanError> {
        do throws(JSONScanError) {
            return .success(try body())
        } catch {
            return .failure(error)
        }
    }

    static func layout(
        of main: [UInt8], strategy: MergeStrategy, itemsKey: String?, idField: String?, addingMissingKey: Bool
    ) throws(MergePlanError) -> Layout {
        if strategy == .jsonl {
            return Layout(bytes: main, container: nil, items: try lineItems(of: main, idField: idField))
        }
        if strategy == .array, idField == nil {
            throw MergePlanError("the array merge strategy needs an idField")
        }
        let expected: ScannedContainer.Kind = strategy == .object ? .object : .array
        var bytes = main
        var result: Result<ScannedContainer, JSONScanError>
        if let itemsKey {
            result = scan { () throws(JSONScanError) in try JSONScanner.members(ofTopLevelKey: itemsKey, in: bytes) }
            if addingMissingKey, case .failure(let error) = result, error.kind == .keyNotFound {
                bytes = try addingMember(itemsKey, kind: expected, to: bytes)
                let updated = bytes
                result = scan { () throws(JSONScanError) in try JSONScanner.members(ofTopLevelKey: itemsKey, in: updated) }
            }
        } else {
            let current = bytes
            result = scan { () throws(JSONScanError) in try JSONScanner.topLevel(in: current) }
        }
        let container: ScannedContainer
        switch result {
        case .success(let found): container = found
        case .failure(let error): throw MergePlanError("main file: \(error)")
        }
        guard container.kind == expected else {
            let place = itemsKey.map { "member \"\($0)\"" } ?? "top level"
            throw MergePlanError("main file: the \(place) is an \(container.kind.rawValue), but the \(strategy.rawValue) strategy needs an \(expected.rawValue)")
        }
        var items: [ExistingItem] = []
        items.reserveCapacity(container.items.count)
        for item in container.items {
            if strategy == .object {
                items.append(ExistingItem(id: item.key, keyRange: item.keyRange, valueRange: item.valueRange))
            } else {
                let id = try elementId(item.valueRange, in: bytes, idField: idField!)
                items.append(ExistingItem(id: id, keyRange: nil, valueRange: item.valueRange))
            }
        }
        return Layout(bytes: bytes, container: container, items: items)
    }

    static func elementId(_ range: Range<Int>, in bytes: [UInt8], idField: String) throws(MergePlanError) -> String? {
        guard bytes[range.lowerBound] == JSONByte.openBrace else { return nil }
        do throws(JSONScanError) {
            return try JSONScanner.stringMember(idField, inObjectAt: range, of: bytes)
        } catch {
            throw MergePlanError("main file: \(error)")
        }
    }

    static func lineItems(of main: [UInt8], idField: String?) throws(MergePlanError) -> [ExistingItem] {
        guard let idField else { throw MergePlanError("the jsonl merge strategy needs an idField") }
        var items: [ExistingItem] = []
        for range in JSONScanner.lines(in: main) {
            guard main[range.lowerBound] == JSONByte.openBrace else {
                let line = JSONTextPosition(offset: range.lowerBound, in: main).line
                throw MergePlanError("main file: line \(line) is not a JSON object")
            }
            do throws(JSONScanError) {
                let id = try JSONScanner.stringMember(idField, inObjectAt: range, of: main)
                items.append(ExistingItem(id: id, keyRange: nil, valueRange: range))
            } catch {
                let line = JSONTextPosition(offset: range.lowerBound, in: main).line
                throw MergePlanError("main file: line \(line): \(error.message)")
            }
        }
        return items
    }

    /// Adds `"key": {}` (or `[]`) as the last member of the top-level object.
    static func addingMember(_ key: String, kind: ScannedContainer.Kind, to main: [UInt8]) throws(MergePlanError) -> [UInt8] {
        let top: ScannedContainer
        switch scan({ () throws(JSONScanError) in try JSONScanner.topLevel(in: main) }) {
        case .success(let found): top = found
        case .failure(let error): throw MergePlanError("main file: \(error)")
        }
        guard top.kind == .object else {
            throw MergePlanError("main file: the top level is an array, but items go under the member \"\(key)\"")
        }
        var member: [UInt8] = []
        JSONValue.writeString(key, into: &member)
        member.append(contentsOf: (kind == .object ? ": {}" : ": []").utf8)
        let ranges = top.items.map(\.range)
        let style = Style(container: top, itemRanges: ranges, in: main)
        var out: [UInt8] = []
        out.reserveCapacity(main.count + member.count + 8)
        if let last = ranges.last {
            out.append(contentsOf: main[..<last.upperBound])
            out.append(contentsOf: style.separator)
            out.append(contentsOf: member)
            out.append(contentsOf: main[last.upperBound...])
        } else {
            out.append(contentsOf: main[...top.openOffset])
            out.append(contentsOf: style.newline + style.indent + member + style.newline + style.containerIndent)
            out.append(contentsOf: main[top.closeOffset...])
        }
        return out
    }

    /// A short reason: `differs in "target"`, or `different value`.
    static func differenceReason(_ existing: JSONValue, _ incoming: JSONValue) -> String {
        let base = "different value"
        guard case .object(let old) = existing, case .object(let new) = incoming else { return base }
        var keys: [String] = []
        for member in new where existing[member.key] != member.value && !keys.contains(member.key) {
            keys.append(member.key)
        }
        for member in old where incoming[member.key] == nil && !keys.contains(member.key) {
            keys.append(member.key)
        }
        guard !keys.isEmpty else { return base }
        let shown = keys.prefix(3).map { "\"\($0)\"" }.joined(separator: ", ")
        return "differs in \(shown)\(keys.count > 3 ? ", ..." : "")"
    }
}

// MARK: - Writing

extension MergePlanner {
    /// How the items of a container are laid out.
    struct Style: Equatable, Sendable {
        /// Between two items: "," plus whatever whitespace the file uses.
        var separator: [UInt8]
        /// Items are each on their own line.
        var lineStyle: Bool
        /// The items' indentation (line style only).
        var indent: [UInt8]
        /// The indentation of the line holding the container's opening bracket.
        var containerIndent: [UInt8]
        var newline: [UInt8]
        /// Between key and value, ": " by default.
        var keySeparator: [UInt8] = Array(": ".utf8)

        init(container: ScannedContainer, itemRanges: [Range<Int>], in main: [UInt8]) {
            containerIndent = MergePlanner.indentOfLine(containing: container.openOffset, in: main)
            newline = [JSONByte.newline]
            guard let first = itemRanges.first else {
                indent = containerIndent + [JSONByte.space, JSONByte.space]
                lineStyle = true
                separator = [JSONByte.comma] + newline + indent
                return
            }
            // Whitespace before the first item, back to the line start.
            var start = first.lowerBound
            while start > 0, main[start - 1] == JSONByte.space || main[start - 1] == JSONByte.tab { start -= 1 }
            let ownLine = start > 0 && main[start - 1] == JSONByte.newline
            indent = Array(main[start..<first.lowerBound])
            if ownLine, start >= 2, main[start - 2] == JSONByte.carriageReturn {
                newline = [JSONByte.carriageReturn, JSONByte.newline]
            }
            if itemRanges.count >= 2 {
                separator = Array(main[first.upperBound..<itemRanges[1].lowerBound])
            } else if ownLine {
                separator = [JSONByte.comma] + newline + indent
            } else {
                separator = [JSONByte.comma] + Array(main[(container.openOffset + 1)..<first.lowerBound])
            }
            lineStyle = separator.contains(JSONByte.newline)
            if !ownLine { indent = [] }
        }
    }

    /// The spaces and tabs at the start of the line holding `offset`.
    static func indentOfLine(containing offset: Int, in bytes: [UInt8]) -> [UInt8] {
        var start = offset
        while start > 0, bytes[start - 1] != JSONByte.newline { start -= 1 }
        var end = start
        while end < bytes.count, bytes[end] == JSONByte.space || bytes[end] == JSONByte.tab { end += 1 }
        return Array(bytes[start..<end])
    }

    static func trimmed(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var lower = 0, upper = bytes.count
        while lower < upper, JSONByte.isWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower, JSONByte.isWhitespace(bytes[upper - 1]) { upper -= 1 }
        return bytes[lower..<upper]
    }

    /// Moves the lines of a multi-line value from the indentation it had in
    /// the batch file (that of its last line, normally the closing bracket) to `indent`.
    /// Line breaks in valid JSON text are always structural whitespace, never
    /// inside strings, so this cannot change the value.
    static func reindent(_ raw: ArraySlice<UInt8>, to indent: [UInt8]) -> [UInt8] {
        guard let lastNewline = raw.lastIndex(of: JSONByte.newline) else { return Array(raw) }
        var baseEnd = lastNewline + 1
        while baseEnd < raw.endIndex, raw[baseEnd] == JSONByte.space || raw[baseEnd] == JSONByte.tab { baseEnd += 1 }
        let base = raw[(lastNewline + 1)..<baseEnd]
        if base.elementsEqual(indent) { return Array(raw) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count + 64)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            out.append(byte)
            index += 1
            if byte == JSONByte.newline, raw[index...].starts(with: base) {
                out.append(contentsOf: indent)
                index += base.count
            }
        }
        return out
    }

    static func render(_ item: BatchItem, keyed: Bool, style: Style) -> [UInt8] {
        let raw = trimmed(item.raw)
        var value: [UInt8]
        if raw.isEmpty {
            value = item.value.serialized()
        } else if raw.contains(JSONByte.newline) {
            value = style.lineStyle ? reindent(raw, to: style.indent) : item.value.serialized()
        } else {
            value = Array(raw)
        }
        guard keyed else { return value }
        var out: [UInt8] = []
        out.reserveCapacity(item.id.utf8.count + value.count + 4)
        JSONValue.writeString(item.id, into: &out)
        out.append(contentsOf: style.keySeparator)
        out.append(contentsOf: value)
        return out
    }

    /// The separators of `container`'s items, and between key and value (`keyed`) those of its first item.
    static func style(of container: ScannedContainer, items: [ExistingItem], in main: [UInt8], keyed: Bool) -> Style {
        var style = Style(container: container, itemRanges: items.map(\.range), in: main)
        if keyed, let first = items.first, let keyRange = first.keyRange {
            style.keySeparator = Array(main[keyRange.upperBound..<first.valueRange.lowerBound])
        }
        return style
    }

    /// A jsonl line for `item`, with its line break: the raw bytes, compact (re-serialised when
    /// they hold line breaks).
    static func appendLine(_ item: BatchItem, to block: inout [UInt8]) {
        let raw = trimmed(item.raw)
        if raw.isEmpty || raw.contains(JSONByte.newline) || raw.contains(JSONByte.carriageReturn) {
            block.append(contentsOf: item.value.serialized())
        } else {
            block.append(contentsOf: raw)
        }
        block.append(JSONByte.newline)
    }

    static func splice(
        _ newItems: [BatchItem], into main: [UInt8], container: ScannedContainer,
        items: [ExistingItem], at position: Int, keyed: Bool
    ) -> [UInt8] {
        let style = style(of: container, items: items, in: main, keyed: keyed)
        let rendered = newItems.map { render($0, keyed: keyed, style: style) }
        var block: [UInt8] = []
        block.reserveCapacity(rendered.reduce(0) { $0 + $1.count + style.separator.count } + 16)
        let insertAt: Int
        var replaceUpTo: Int
        if items.isEmpty {
            // Replace the (blank) inside of the empty container.
            insertAt = container.openOffset + 1
            replaceUpTo = container.closeOffset
            for (index, item) in rendered.enumerated() {
                block.append(contentsOf: index == 0 ? style.newline + style.indent : style.separator)
                block.append(contentsOf: item)
            }
            block.append(contentsOf: style.newline + style.containerIndent)
        } else if position >= items.count {
            insertAt = items[items.count - 1].range.upperBound
            replaceUpTo = insertAt
            for item in rendered {
                block.append(contentsOf: style.separator)
                block.append(contentsOf: item)
            }
        } else {
            insertAt = items[position].range.lowerBound
            replaceUpTo = insertAt
            for item in rendered {
                block.append(contentsOf: item)
                block.append(contentsOf: style.separator)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(main.count + block.count)
        out.append(contentsOf: main[..<insertAt])
        out.append(contentsOf: block)
        out.append(contentsOf: main[replaceUpTo...])
        return out
    }

    static func spliceLines(
        _ newItems: [BatchItem], into main: [UInt8], items: [ExistingItem], at position: Int
    ) -> [UInt8] {
        var block: [UInt8] = []
        let insertAt: Int
        if position < items.count {
            var start = items[position].valueRange.lowerBound
            while start > 0, main[start - 1] != JSONByte.newline { start -= 1 }
            insertAt = start
        } else {
            insertAt = main.count
            if !isBlank(main), main.last != JSONByte.newline { block.append(JSONByte.newline) }
        }
        for item in newItems { appendLine(item, to: &block) }
        var out: [UInt8] = []
        out.reserveCapacity(main.count + block.count)
        out.append(contentsOf: main[..<insertAt])
        out.append(contentsOf: block)
        out.append(contentsOf: main[insertAt...])
        return out
    }
}
