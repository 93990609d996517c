extension WatcherState {
    /// `retry RUN PHASE --rebuild`: asks the shell to re-merge every merged batch of the phase,
    /// in batch order, from its file kept in `accepted/` into a new main file. Refused while a
    /// batch of the phase is merging (its items would be missing from the new file), and when
    /// nothing of the phase is merged.
    mutating func rebuild(_ c: ControlCommand, into effects: inout [Effect]) {
        func reject(_ reason: String) { effects.append(.log(controlEvent(c, applied: false, reason: reason))) }
        guard let plan = plans[c.run] else { return reject("unknown run \(c.run)") }
        guard let phase = c.phase, plan.phaseIndex(phase) != nil else {
            return reject("no phase \(c.phase ?? "?") in run \(c.run)")
        }
        let ids = plan.batchIDs.filter { $0.phase == phase }.sorted { $0.index < $1.index }
        if let busy = ids.first(where: { batches[$0]?.state == .merging }) {
            return reject("batch \(phase)/\(busy.index) is merging: try again once it has")
        }
        let merged = ids.compactMap { id -> MergedBatch? in
            guard let b = batches[id], b.state == .merged, let sum = b.mergedChecksum else { return nil }
            return MergedBatch(id: id, checksum: sum)
        }
        guard !merged.isEmpty else { return reject("no batch of phase \(phase) is merged: there is nothing to rebuild") }
        effects.append(.rebuildMainFile(c, batches: merged))
    }

    /// The shell's answer to `.rebuildMainFile`: applied (the run's `main_file_changed` pause
    /// goes, see `apply`), or rejected with what stopped it.
    mutating func mainFileRebuilt(_ c: ControlCommand, batches: Int, refusal: String?, into effects: inout [Effect]) {
        if let refusal { return effects.append(.log(controlEvent(c, applied: false, reason: refusal))) }
        var e = controlEvent(c, applied: true, reason: nil)
        e.details.append(.init("batches", .int(batches)))
        apply(e)
        effects.append(.log(e))
    }
}
