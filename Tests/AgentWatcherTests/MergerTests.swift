import Testing
@testable import AgentWatcher
@testable import WatcherCore
import WatcherSystem

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
            let path = dir + "/b1.json"
            try writeText(path, #"{"translations": {"S0001": "one"}}"#)
            var job = try validatedJob(1, path: path)
            // The kept items say "uno"; the file says "one". Same file (inode, size, mtime):
            // the merge takes what validation kept, so it did not read the file again.
            job.validated!.items = [BatchItem(id: "S0001", raw: Array(#""uno""#.utf8), value: .string("uno"))]
            let results = try merger.merge([job], phase: phase, limit: 1 << 20)
            #expect(merged(results) == [1])
            #expect(try read(dir + "/out/one.json").contains(#""S0001": "uno""#))
        }
    }

    @Test func aBatchFileReplacedSinceValidationIsReadAgainAndFoundChanged() throws {
        try withMerger { merger, phase, dir in
            let path = dir + "/b1.json"
            try writeText(path, #"{"translations": {"S0001": "one"}}"#)
            let job = try validatedJob(1, path: path)
            try FileSystem.unlink(path)
            try writeText(path, #"{"translations": {"S0001": "two"}}"#) // another inode, same size
            let results = try merger.merge([job], phase: phase, limit: 1 << 20)
            #expect(results.count == 1)
            guard case .changed = results[0].1 else { Issue.record("merged a file replaced since validation: \(results[0].1)"); return }
            #expect(!FileSystem.exists(dir + "/out/one.json"))
        }
    }

    @Test func withNothingKeptTheMergeReadsAndChecksTheFile() throws {
        try withMerger { merger, phase, dir in
            let path = dir + "/b1.json"
            try writeText(path, #"{"translations": {"S0001": "one"}}"#)
            var job = try validatedJob(1, path: path)
            job.validated = nil // after a restart
            #expect(merged(try merger.merge([job], phase: phase, limit: 1 << 20)) == [1])
            #expect(try read(dir + "/out/one.json").contains(#""S0001": "one""#))
            job.checksum = String(repeating: "0", count: 64) // not what was validated
            let again = try merger.merge([job], phase: phase, limit: 1 << 20)
            guard case .changed = again[0].1 else { Issue.record("merged bytes of another checksum: \(again[0].1)"); return }
        }
    }
}
