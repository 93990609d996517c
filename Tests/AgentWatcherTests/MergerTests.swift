import Testing
@testable import AgentWatcher
@testable import WatcherCore
import WatcherSystem
import Glibc
import Foundation

/// Three seeds, batches of one; phase 1 merges into `out/one.json` by key.
private let seeds = #"{"seeds": [{"id": "S0001"}, {"id": "S0002"}, {"id": "S0003"}]}"#

private func phaseSpec(_ strategy: MergeStrategy = .object) -> PipelineSpec {
    let output: PipelineSpec.OutputSpec = strategy == .object
        ? .init(file: "out/one.json", strategy: .object, key: "translations")
        : strategy == .array ? .init(file: "out/one.json", strategy: .array, key: "seeds", idField: "seed_id")
        : .init(file: "out/one.jsonl", strategy: .jsonl, idField: "seed_id")
    var s = PipelineSpec(run: "r", items: .init(file: "data/seeds.json", key: "seeds", idField: "id"),
                         phases: [.init(id: "1", output: output)])
    s.batchSize = 1
    s.agent = .init(argv: ["agent"])
    return s
}

private func withMerger(_ strategy: MergeStrategy = .object,
                        _ body: (Merger, PipelineSpec.PhaseSpec, String) throws -> Void) throws {
    try withTemporaryFolder { dir in
        try writeText(dir + "/data/seeds.json", seeds)
        try FileSystem.createDirectory(dir + "/out")
        let ctx = try RunContext(spec: phaseSpec(strategy), specPath: dir + "/pipeline.json", rules: RuleRegistry())
        try body(Merger(context: ctx, root: try RootDirectory(dir)), ctx.spec.phases[0], dir)
    }
}

private func batch(_ index: Int) -> BatchID { BatchID(run: "r", phase: "1", index: index) }
private func read(_ path: String) throws -> String { String(decoding: try FileSystem.readFile(path), as: UTF8.self) }

/// A job for `path` as validation saw it: its checksum, status and items.
private func validatedJob(_ index: Int, path: String) throws -> Merger.Job {
    let bytes = try FileSystem.readFile(path)
    let checked = BatchChecks.check(bytes: bytes, strategy: .object, itemsKey: "translations", idField: nil, expectedIds: nil)
    let kept = Merger.Validated(attempt: 1, checksum: SHA256.hex(bytes), status: try FileSystem.lstat(path), items: checked.items)
    return Merger.Job(id: batch(index), attempt: 1, path: path, checksum: kept.checksum, validated: kept)
}

private func merged(_ results: [(Merger.Job, Merger.Result)]) -> [Int] {
    results.compactMap { if case .merged(let n, _) = $0.1 { return n }; return nil }
}

@Suite struct MergerTests {
    @Test func aBatchFileStillAsValidatedIsMergedFromTheKeptItemsWithoutReadingItAgain() throws {
        try withMerger { merger, phase, dir in
            var noIndex: MainFileIndex?
            let path = dir + "/b1.json"
            try writeText(path, #"{"translations": {"S0001": "one"}}"#)
            var job = try validatedJob(1, path: path)
            // The kept items say "uno"; the file says "one". Same file (inode, size, mtime):
            // the merge takes what validation kept, so it did not read the file again.
            job.validated!.items = [BatchItem(id: "S0001", raw: Array(#""uno""#.utf8), value: .string("uno"))]
            let results = try merger.merge([job], phase: phase, limit: 1 << 20, index: &noIndex)
            #expect(merged(results) == [1])
            #expect(try read(dir + "/out/one.json").contains(#""S0001": "uno""#))
        }
    }

    @Test func aBatchFileReplacedSinceValidationIsReadAgainAndFoundChanged() throws {
        try withMerger { merger, phase, dir in
            var noIndex: MainFileIndex?
            let path = dir + "/b1.json"
            try writeText(path, #"{"translations": {"S0001": "one"}}"#)
            let job = try validatedJob(1, path: path)
            try FileSystem.unlink(path)
            try writeText(path, #"{"translations": {"S0001": "two"}}"#) // another inode, same size
            let results = try merger.merge([job], phase: phase, limit: 1 << 20, index: &noIndex)
            #expect(results.count == 1)
            guard case .changed = results[0].1 else { Issue.record("merged a file replaced since validation: \(results[0].1)"); return }
            #expect(!FileSystem.exists(dir + "/out/one.json"))
        }
    }

    @Test func withNothingKeptTheMergeReadsAndChecksTheFile() throws {
        try withMerger { merger, phase, dir in
            var noIndex: MainFileIndex?
            let path = dir + "/b1.json"
            try writeText(path, #"{"translations": {"S0001": "one"}}"#)
            var job = try validatedJob(1, path: path)
            job.validated = nil // after a restart
            #expect(merged(try merger.merge([job], phase: phase, limit: 1 << 20, index: &noIndex)) == [1])
            #expect(try read(dir + "/out/one.json").contains(#""S0001": "one""#))
            job.checksum = String(repeating: "0", count: 64) // not what was validated
            let again = try merger.merge([job], phase: phase, limit: 1 << 20, index: &noIndex)
            guard case .changed = again[0].1 else { Issue.record("merged bytes of another checksum: \(again[0].1)"); return }
        }
    }
}

@Suite struct MergerIndexTests {
    private func job(_ index: Int, _ dir: String, _ text: String) throws -> Merger.Job {
        let path = dir + "/b\(index).json"
        try writeText(path, text)
        let bytes = try FileSystem.readFile(path)
        return Merger.Job(id: batch(index), attempt: 1, path: path, checksum: SHA256.hex(bytes))
    }

    @Test func inOrderBatchesAreAppendedFromTheIndexAndTheFileIsWhatAFullMergeWrites() throws {
        try withMerger { merger, phase, dir in
            var index: MainFileIndex?
            var record: MainFileRecord?
            func merge(_ jobs: [Merger.Job]) throws -> [Int] {
                merged(try merger.merge(jobs, phase: phase, limit: 1 << 20, known: record, index: &index) { record = $0 })
            }
            #expect(try merge([try job(1, dir, #"{"translations": {"S0001": "one"}}"#)]) == [1])
            let first = try #require(index)
            #expect(first.identity == MainFileIdentity(try FileSystem.lstat(dir + "/out/one.json")))
            // One round of two batches: planned from the index, one replace.
            #expect(try merge([try job(3, dir, #"{"translations": {"S0003": "three"}}"#),
                               try job(2, dir, #"{"translations": {"S0002": "two"}}"#)]) == [1, 1])
            let bytes = try FileSystem.readFile(dir + "/out/one.json")
            #expect(String(decoding: bytes, as: UTF8.self)
                == "{\n  \"translations\": {\n    \"S0001\": \"one\",\n    \"S0002\": \"two\",\n    \"S0003\": \"three\"\n  }\n}\n")
            #expect(index?.facts == MainFileFacts(of: bytes), "size and CRC-32 combined, not read")
            #expect(record?.written == MainFileFacts(of: bytes))
            #expect(index?.identity == MainFileIdentity(try FileSystem.lstat(dir + "/out/one.json")))
            #expect(index?.highestBatch == 3)
        }
    }

    @Test func aMainFileChangedByHandSinceTheIndexIsReadAndCheckedAsBefore() throws {
        try withMerger { merger, phase, dir in
            var index: MainFileIndex?
            var record: MainFileRecord?
            _ = try merger.merge([try job(1, dir, #"{"translations": {"S0001": "one"}}"#)], phase: phase, limit: 1 << 20,
                                 known: record, index: &index) { record = $0 }
            // Same size, other bytes, written in place (same inode): its mtime moves, the index is not trusted.
            let path = dir + "/out/one.json"
            var bytes = try FileSystem.readFile(path)
            let at = try #require(bytes.firstIndex(of: UInt8(ascii: "o")))
            bytes[at] = UInt8(ascii: "O")
            let fd = try FileDescriptor.open(path, O_WRONLY)
            try fd.pwriteAll(bytes, offset: 0)
            try fd.close()
            var ts = [timespec(tv_sec: 1, tv_nsec: 0), timespec(tv_sec: 1, tv_nsec: 0)]
            _ = utimensat(AT_FDCWD, path, &ts, 0) // an mtime unlike the index's, whatever the clock's grain
            let results = try merger.merge([try job(2, dir, #"{"translations": {"S0002": "two"}}"#)], phase: phase,
                                           limit: 1 << 20, known: record, index: &index) { record = $0 }
            guard case .mainFileChanged(let message) = results[0].1 else { Issue.record("merged into a file changed by hand: \(results[0].1)"); return }
            #expect(message.contains("was changed or replaced"))
            #expect(index == nil)
            #expect(try FileSystem.readFile(path) == bytes, "left as found")
        }
    }

    @Test func aBatchGoingBeforeItemsAlreadyThereTakesTheFullMerge() throws {
        try withMerger { merger, phase, dir in
            var index: MainFileIndex?
            _ = try merger.merge([try job(3, dir, #"{"translations": {"S0003": "three"}}"#)], phase: phase, limit: 1 << 20, index: &index)
            #expect(merged(try merger.merge([try job(1, dir, #"{"translations": {"S0001": "one"}}"#)], phase: phase,
                                            limit: 1 << 20, index: &index)) == [1])
            let text = String(decoding: try FileSystem.readFile(dir + "/out/one.json"), as: UTF8.self)
            #expect(text == "{\n  \"translations\": {\n    \"S0001\": \"one\",\n    \"S0003\": \"three\"\n  }\n}\n")
            #expect(index?.facts == MainFileFacts(of: Array(text.utf8)))
        }
    }
}

/// What the reader thread saw, behind a lock.
private final class ReaderTally: @unchecked Sendable {
    private let lock = NSLock()
    private var stop = false
    private(set) var reads = 0
    private(set) var failures: [String] = []
    private(set) var counts: Set<Int> = []

    var stopped: Bool { lock.withLock { stop } }
    func finish() { lock.withLock { stop = true } }
    func saw(items: Int?, failure: String?) {
        lock.withLock {
            reads += 1
            if let items { counts.insert(items) }
            if let failure, failures.count < 5 { failures.append(failure) }
        }
    }
}

@Suite struct MainFileReaderTests {
    /// Readers of an `object` main file never see it half-written: a thread parses it with the
    /// project's JSON parser over and over while 200 batches are merged into it (the daemon's
    /// merge: index, prefix copied in the kernel, temp + fsync + rename).
    @Test func aReaderParsingTheMainFileInALoopNeverSeesItHalfWritten() throws {
        var s = PipelineSpec(run: "r", items: .init(file: "data/seeds.json", key: "seeds", idField: "id"),
                             phases: [.init(id: "1", output: .init(file: "out/one.json", strategy: .object, key: "translations"))])
        s.batchSize = 1
        s.agent = .init(argv: ["agent"])
        let count = 200
        let ids = (1...count).map { String(format: "S%04d", $0) }
        try withTemporaryFolder { dir in
            try writeText(dir + "/data/seeds.json", #"{"seeds": ["# + ids.map { #"{"id": "\#($0)"}"# }.joined(separator: ",") + "]}")
            try FileSystem.createDirectory(dir + "/out")
            let ctx = try RunContext(spec: s, specPath: dir + "/pipeline.json", rules: RuleRegistry())
            let merger = Merger(context: ctx, root: try RootDirectory(dir))
            let mainPath = dir + "/out/one.json"
            let tally = ReaderTally()
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                while !tally.stopped {
                    guard let bytes = try? FileSystem.readFile(mainPath) else { continue } // not there yet
                    do {
                        let value = try JSONParser.parse(bytes)
                        guard case .object(let members)? = value["translations"] else {
                            tally.saw(items: nil, failure: "no translations object in \(bytes.count) bytes")
                            continue
                        }
                        tally.saw(items: members.count, failure: nil)
                    } catch {
                        tally.saw(items: nil, failure: "\(error) in \(bytes.count) bytes")
                    }
                }
                done.signal()
            }
            var index: MainFileIndex?
            var record: MainFileRecord?
            let filler = String(repeating: "x", count: 2000) // each batch about 2 KB: the file grows to 400 KB
            for (n, id) in ids.enumerated() {
                let path = dir + "/b\(n + 1).json"
                try writeText(path, #"{"translations": {"\#(id)": {"text": "\#(filler)", "n": \#(n)}}}"#)
                let job = Merger.Job(id: BatchID(run: "r", phase: "1", index: n + 1), attempt: 1, path: path,
                                     checksum: SHA256.hex(try FileSystem.readFile(path)))
                let results = try merger.merge([job], phase: ctx.spec.phases[0], limit: 1 << 20, known: record, index: &index) { record = $0 }
                guard case .merged(1, false) = results[0].1 else { Issue.record("batch \(n + 1): \(results[0].1)"); break }
            }
            tally.finish()
            done.wait()
            #expect(tally.failures.isEmpty, "the reader saw a main file that does not parse: \(tally.failures)")
            #expect(tally.counts.count > 10, "the reader saw the file grow: \(tally.counts.sorted().prefix(20)) over \(tally.reads) reads")
            #expect(try JSONParser.parse(try FileSystem.readFile(mainPath))["translations"].map { v -> Int in
                if case .object(let m) = v { return m.count }; return -1 } == count)
        }
    }
}
