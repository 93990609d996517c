/// Which file a main file is, as `stat` tells: the daemon trusts its ``MainFileIndex`` of a main
/// file while the file on disk has the same identity (a hand edit, a restore or a rebuild gives
/// another inode, size or mtime).
public struct MainFileIdentity: Equatable, Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int
    public var mtimeSeconds: Int
    public var mtimeNanoseconds: Int

    public init(device: UInt64, inode: UInt64, size: Int, mtimeSeconds: Int, mtimeNanoseconds: Int) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
    }
}

/// What the daemon knows of a main file after one full scan, enough to append a batch that goes
/// after every item already there without reading, scanning or hashing the file again: where the
/// new items go (`insertAt`, the end of the last item), the bytes after that point (the
/// container's closing, kept), the ids present, the highest batch among them, the separators,
/// and the CRC-32 of the prefix before `insertAt` (the file's CRC-32 is combined from it and the
/// closing's, ``CRC32/combine(_:_:lengthB:)``).
///
/// A value: the shell keeps one per main file with the file's ``MainFileIdentity`` and drops it
/// when the identity no longer matches.
public struct MainFileIndex: Equatable, Sendable {
    /// The file this index describes; nil until the shell has seen it on disk.
    public var identity: MainFileIdentity?
    public var strategy: MergeStrategy
    public var size: Int
    /// Where appended items go: after the last item (object, array) or at the end (jsonl).
    public var insertAt: Int
    /// The bytes from `insertAt` to the end: the container's closing (kept as is).
    public var closing: [UInt8]
    public var ids: Set<String>
    /// The highest batch any item present belongs to (items of no known batch left out).
    public var highestBatch: Int?
    /// The container holds at least one item (a jsonl file: one line).
    public var hasItems: Bool
    /// jsonl: the last line has no line break yet.
    var lineOpen = false
    /// The separators of the items (object and array).
    var style: MergePlanner.Style?
    public var prefixCRC: UInt32

    /// The file's size and CRC-32, with no read of it.
    public var facts: MainFileFacts {
        MainFileFacts(size: size, crc32: CRC32.combine(prefixCRC, CRC32.checksum(closing), lengthB: closing.count))
    }

    /// One full scan of `main`. Throws what ``MergePlanner/plan(_:)`` would (a malformed file,
    /// no container): then there is no index, and the full merge says why.
    ///   - batchOf: the batch of an item id (nil: not one of the plan's), for `highestBatch`.
    public static func scan(_ main: [UInt8], strategy: MergeStrategy, itemsKey: String?, idField: String?,
                            batchOf: (String) -> Int?) throws(MergePlanError) -> MainFileIndex {
        let layout = try MergePlanner.layout(of: main, strategy: strategy, itemsKey: itemsKey, idField: idField,
                                             addingMissingKey: false)
        var ids = Set<String>()
        ids.reserveCapacity(layout.items.count)
        var highest: Int?
        for item in layout.items {
            guard let id = item.id else { continue }
            ids.insert(id)
            if let b = batchOf(id), b > (highest ?? Int.min) { highest = b }
        }
        let insertAt: Int
        var style: MergePlanner.Style?
        if let container = layout.container {
            style = MergePlanner.style(of: container, items: layout.items, in: main, keyed: strategy == .object)
            insertAt = layout.items.last?.range.upperBound ?? container.openOffset + 1
        } else {
            insertAt = main.count
        }
        var index = MainFileIndex(identity: nil, strategy: strategy, size: main.count, insertAt: insertAt,
                                  closing: Array(main[insertAt...]), ids: ids, highestBatch: highest,
                                  hasItems: !layout.items.isEmpty, style: style,
                                  prefixCRC: CRC32.checksum(main[..<insertAt]))
        index.lineOpen = strategy == .jsonl && main.last.map { $0 != JSONByte.newline } ?? false
        return index
    }

    /// Appends a batch that goes after every item already there: returns the bytes to write at
    /// `insertAt` and makes this the index after them (in place: a uniquely held index is not
    /// copied, so the cost is the batch's, not the file's); nil, and the index unchanged, when the
    /// batch is not that usual case (the container is empty, one of its ids is present or
    /// repeated, an item of a later batch is there): the full merge (``MergePlanner/plan(_:)``)
    /// decides those. The bytes are the same as the full merge's.
    public mutating func append(_ items: [BatchItem], batchIndex: Int) -> [UInt8]? {
        guard hasItems, !items.isEmpty, (highestBatch ?? Int.min) <= batchIndex else { return nil }
        var seen = Set<String>()
        for item in items { guard !ids.contains(item.id), seen.insert(item.id).inserted else { return nil } }
        var block: [UInt8] = []
        if let style {
            for item in items {
                block.append(contentsOf: style.separator)
                block.append(contentsOf: MergePlanner.render(item, keyed: strategy == .object, style: style))
            }
        } else {
            if lineOpen { block.append(JSONByte.newline) }
            for item in items { MergePlanner.appendLine(item, to: &block) }
        }
        identity = nil
        size += block.count
        insertAt += block.count
        prefixCRC = CRC32.combine(prefixCRC, CRC32.checksum(block), lengthB: block.count)
        ids.formUnion(seen)
        highestBatch = max(highestBatch ?? batchIndex, batchIndex)
        lineOpen = false
        return block
    }
}
