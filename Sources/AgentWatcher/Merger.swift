import WatcherCore
import WatcherSystem

/// Merges a validated batch file into its phase's main file: splice the batch's raw item
/// bytes into the main file's bytes (no re-serialisation), then atomically replace the file.
struct Merger {
    let context: RunContext

    enum Result {
        case merged(items: Int, alreadyMerged: Bool)
        /// The file is not what was validated any more.
        case changed
        case conflict(ValidationReport)
    }

    func merge(_ id: BatchID, phase: PipelineSpec.PhaseSpec, path: String, checksum: String, limit: Int) throws -> Result {
        guard case .contents(let bytes, _) = SafeFile.readDropped(path, limit: limit), SHA256.hex(bytes) == checksum else {
            return .changed
        }
        let checked = BatchChecks.check(bytes: bytes, strategy: phase.output.strategy, itemsKey: phase.output.key,
                                        idField: phase.output.idField, expectedIds: nil)
        guard checked.report.valid else { return .changed }
        let mainPath = context.mainPath(phase)
        let main = FileSystem.exists(mainPath) ? try FileSystem.readFile(mainPath) : []
        let request = MergeRequest(strategy: phase.output.strategy, itemsKey: phase.output.key,
                                   idField: phase.output.idField, main: main,
                                   template: phase.output.template?.text, batchIndex: id.index,
                                   batchItems: checked.items, batchOf: { context.batchOf($0) })
        let outcome: MergeOutcome
        do { outcome = try MergePlanner.plan(request) } catch {
            // Not the batch's fault, and no retry fixes it: say which file is broken and how.
            return .conflict(ValidationReport.from(errors: [ValidationError(
                type: "main_file_invalid", item: nil, message: "\(mainPath): \(error)",
                suggestion: "repair or move aside \(mainPath), then retry the batch")]))
        }
        switch outcome {
        case .write(let newBytes, let inserted):
            try AtomicFile.replace(mainPath, with: newBytes, faultHook: FaultInjection.atomicStep)
            return .merged(items: inserted, alreadyMerged: false)
        case .alreadyMerged:
            return .merged(items: 0, alreadyMerged: true)
        case .conflict(let conflicts):
            return .conflict(ValidationReport.from(errors: conflicts.map {
                ValidationError(type: ValidationErrorType.conflict, item: $0.id,
                                message: "\($0.id) is already in \(mainPath) with other content: \($0.reason)",
                                suggestion: "keep the merged content of \($0.id), or leave the item out")
            }))
        }
    }
}
