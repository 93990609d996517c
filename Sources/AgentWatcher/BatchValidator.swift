import WatcherCore
import WatcherSystem

/// The built-in checks of one batch file: JSON, exactly the batch's ids, then the phase's rule
/// set (from the run's ``RuleRegistry``), with the context it asks for read from the main files.
struct BatchValidator {
    let context: RunContext

    /// The report, whether the file did not parse, and the batch's items (kept for the merge, so
    /// it does not read and check the file a second time).
    func check(_ id: BatchID, phase: PipelineSpec.PhaseSpec, bytes: [UInt8]) throws -> (report: ValidationReport, unparseable: Bool, items: [BatchItem]) {
        let expected = (phase.expectIds ?? .batch) == .batch ? context.ids(ofBatch: id.index) : nil
        let checked = BatchChecks.check(bytes: bytes, strategy: phase.output.strategy, itemsKey: phase.output.key,
                                        idField: phase.output.idField, expectedIds: expected)
        guard let _ = checked.parsed else { return (checked.report, true, []) }
        guard let name = phase.rules else { return (checked.report, false, checked.items) }
        guard let ruleSet = context.rules[name] else { // RunContext refuses such a spec; kept as a guard
            throw SpecError(path: context.specPath, problems: context.spec.ruleProblems(knownRules: context.rules.names))
        }
        var ruleContext = RuleContext(batch: id)
        if ruleSet.needs.contains(.inputItems) {
            ruleContext.inputItems = try context.inputItems(for: id).map { try parsed($0) }
        }
        if ruleSet.needs.contains(.earlierItems) {
            ruleContext.earlierItems = try earlierItems(before: id, phase: phase)
        }
        let errors = checked.report.errors + ruleSet.check(checked.items, context: ruleContext)
        return (ValidationReport.from(errors: errors, stats: checked.report.stats), false, checked.items)
    }

    /// This phase's merged items of earlier batches, in main-file order.
    func earlierItems(before id: BatchID, phase: PipelineSpec.PhaseSpec) throws -> [BatchItem] {
        let path = context.mainPath(phase)
        guard FileSystem.exists(path) else { return [] }
        let bytes = try FileSystem.readRegularFile(path) // a FIFO planted there is never waited on
        return try RunContext.scanItems(bytes, key: phase.output.key, idField: phase.output.idField).compactMap { item in
            guard let b = context.batchOf(item.id), b < id.index else { return nil }
            return try parsed(item)
        }
    }

    func parsed(_ item: (id: String, raw: [UInt8])) throws -> BatchItem {
        BatchItem(id: item.id, raw: item.raw, value: try JSONParser.parse(item.raw))
    }
}
