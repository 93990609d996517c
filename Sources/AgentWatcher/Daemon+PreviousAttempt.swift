import Foundation
import Glibc
import WatcherCore
import WatcherSystem

extension Daemon {
    /// What the prompt of the attempt after `attempt` says about it: its file in `rejected/` (as
    /// `archive(_:attempt:path:destination:)` named it), its errors (the live report, else its
    /// `.errors.json`, which a restart leaves as the only copy) and the ids of its items that passed.
    func previousAttempt(_ id: BatchID, attempt: Int, liveReport: ValidationReport?) -> PreviousAttempt? {
        guard attempt >= 1 else { return nil }
        let file = rejectedFile(id, attempt: attempt)
        var report = liveReport
        if report == nil, let file {
            let errorsPath = Daemon.errorsPath(beside: file)
            // Read as a dropped file is: a FIFO, a link or a file with other names planted there is not.
            switch SafeFile.readDropped(errorsPath, beneath: root, limit: 16 << 20) {
            case .vanished:
                break
            case .contents(let bytes, _):
                do { report = try ValidationReport.parse(bytes).get() } catch {
                    Console.error("agent-watcher: \(errorsPath): cannot read the previous attempt's errors: \(error)")
                }
            case .refused(let why):
                Console.error("agent-watcher: \(errorsPath): the previous attempt's errors are not read: \(why)")
            case .failed(let error):
                Console.error("agent-watcher: \(errorsPath): cannot read the previous attempt's errors: \(error)")
            }
        }
        guard let report else { return nil }
        return PreviousAttempt(attempt: attempt, file: file, report: report,
                               passedItems: file.map { passedItems(id, file: $0, report: report) } ?? [])
    }

    /// The attempt's file in `rejected/`: `<phase>_batch_<k>.attempt-<n>.json`, or the last of the
    /// `.2`, `.3` ... names `moveUnique` gives when that name is taken; nil when it left no file.
    func rejectedFile(_ id: BatchID, attempt: Int) -> String? {
        let first = layout.rejected(id.run) + "/" + Daemon.attemptName(id, attempt: attempt)
        guard root.exists(first) else { return nil }
        var last = first
        var n = 2
        while root.exists(first + ".\(n)") {
            last = first + ".\(n)"
            n += 1
        }
        return last
    }

    /// The ids of the file's items that are not among the report's failed items, in file order.
    func passedItems(_ id: BatchID, file: String, report: ValidationReport) -> [String] {
        guard let ctx = runs[id.run], let phase = ctx.phase(id.phase) else { return [] }
        guard case .contents(let bytes, _) = SafeFile.readDropped(file, beneath: root, limit: ctx.spec.maxFileBytes) else {
            Console.error("agent-watcher: \(file): cannot read the previous attempt's file to list its passed items")
            return []
        }
        let failed = Set(report.failedItems)
        return BatchChecks.check(bytes: bytes, strategy: phase.output.strategy, itemsKey: phase.output.key,
                                 idField: phase.output.idField, expectedIds: nil)
            .items.map(\.id).filter { !failed.contains($0) }
    }

    static func attemptName(_ id: BatchID, attempt: Int) -> String {
        "\(id.phase)_batch_\(id.index).attempt-\(attempt).json"
    }

    /// `X.json` -> `X.errors.json` (any other name gets `.errors.json` appended).
    static func errorsPath(beside path: String) -> String {
        (path.hasSuffix(".json") ? String(path.dropLast(5)) : path) + ".errors.json"
    }
}
