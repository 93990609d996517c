import WatcherCore
import WatcherSystem

/// The built-in checks of one batch file: JSON, exactly the batch's ids, then the phase's rules,
/// with the context they need from the main files.
struct BatchValidator {
    let context: RunContext

    func check(_ id: BatchID, phase: PipelineSpec.PhaseSpec, bytes: [UInt8]) throws -> (report: ValidationReport, unparseable: Bool) {
        let expected = (phase.expectIds ?? .batch) == .batch ? context.ids(ofBatch: id.index) : nil
        let checked = BatchChecks.check(bytes: bytes, strategy: phase.output.strategy, itemsKey: phase.output.key,
                                        idField: phase.output.idField, expectedIds: expected)
        guard let _ = checked.parsed else { return (checked.report, true) }
        var errors = checked.report.errors
        switch phase.rules {
        case "seed_pairs"?:
            errors += CourseRules.seedPairs(items: checked.items)
        case "lego_pairs"?:
            errors += CourseRules.legoPairs(items: checked.items, knownWordsBefore: try knownWords(before: id, phase: phase))
        case "lego_baskets"?:
            let seeds = try context.inputItems(for: id).map { try JSONParser.parse($0.raw) }
            errors += CourseRules.legoBaskets(items: checked.items, inputSeeds: seeds)
        default:
            break
        }
        return (ValidationReport.from(errors: errors, stats: checked.report.stats), false)
    }

    /// Target words of the LEGOs of every merged seed of an earlier batch of this phase.
    func knownWords(before id: BatchID, phase: PipelineSpec.PhaseSpec) throws -> Set<String> {
        let path = context.mainPath(phase)
        guard FileSystem.exists(path) else { return [] }
        let bytes = try FileSystem.readFile(path)
        var words: Set<String> = []
        for item in try RunContext.scanItems(bytes, key: phase.output.key, idField: phase.output.idField) {
            guard let b = context.batchOf(item.id), b < id.index else { continue }
            words.formUnion(CourseRules.targetWords(ofSeedItem: try JSONParser.parse(item.raw)))
        }
        return words
    }
}
