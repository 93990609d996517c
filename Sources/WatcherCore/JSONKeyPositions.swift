/// Where each member and element of a JSON document starts, by key path
/// (`phases[0].output.strategy`), for error messages that give a line and column.
///
/// Built with ``JSONScanner``, so it costs a scan per container: meant for small documents
/// such as pipeline specs. A member's position is its key's opening quote; an element's is
/// its first byte; the document's (key path "") is its top-level bracket. With duplicate
/// keys the first one counts, as in ``JSONValue/subscript(key:)``.
public struct JSONKeyPositions: Sendable {
    private let bytes: [UInt8]
    private var offsets: [String: Int] = [:]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        // Bytes that do not scan have no positions; the parser reports what is wrong with them.
        guard let top = try? JSONScanner.topLevel(in: bytes) else { return }
        offsets[""] = top.openOffset
        record(top, under: "")
    }

    private mutating func record(_ container: ScannedContainer, under path: String) {
        for (index, item) in container.items.enumerated() {
            let itemPath = item.key.map { JSONKeyPositions.join(path, $0) } ?? "\(path)[\(index)]"
            if offsets[itemPath] == nil { offsets[itemPath] = item.keyRange?.lowerBound ?? item.valueRange.lowerBound }
            let first = bytes[item.valueRange.lowerBound]
            guard first == UInt8(ascii: "{") || first == UInt8(ascii: "["),
                  let inner = try? JSONScanner.container(at: item.valueRange.lowerBound, in: bytes) else { continue }
            record(inner, under: itemPath)
        }
    }

    /// `parent.key`, or `key` at the top level.
    public static func join(_ parent: String, _ key: String) -> String { parent.isEmpty ? key : parent + "." + key }

    /// The line and column where `keyPath` starts, if the document has it.
    public func position(of keyPath: String) -> JSONTextPosition? {
        offsets[keyPath].map { JSONTextPosition(offset: $0, in: bytes) }
    }

    /// The position of `keyPath`, else of the nearest enclosing member or element that exists
    /// (for a missing key: the object it is missing from).
    public func nearestPosition(of keyPath: String) -> JSONTextPosition? {
        var path = Substring(keyPath)
        while true {
            if let offset = offsets[String(path)] { return JSONTextPosition(offset: offset, in: bytes) }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else {
                return offsets[""].map { JSONTextPosition(offset: $0, in: bytes) }
            }
            path = path[..<cut]
        }
    }
}
