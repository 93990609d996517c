import WatcherCore
import WatcherSystem

extension Daemon {
    /// `retry RUN PHASE --rebuild`: merges the accepted file of every batch in `batches` (in
    /// batch order) into a new main file, starting from the template. The old main file is
    /// kept aside under a free name (`<name>.before-rebuild`, `.2` ...), never deleted. Write
    /// ahead: `main.rebuilt` (where the old file goes) and `main.written` are logged before the
    /// old file moves. Returns why it could not be done (nothing replaced), or nil.
    func rebuildMainFile(_ c: ControlCommand, batches: [MergedBatch]) throws -> String? {
        guard let ctx = runs[c.run], let phaseID = c.phase, let phase = ctx.phase(phaseID) else {
            return "no phase \(c.phase ?? "?") in run \(c.run)"
        }
        let mainPath = ctx.mainPath(phase)
        let merger = Merger(context: ctx, root: root)
        var main: [UInt8] = []
        for b in batches {
            guard let path = try acceptedFile(of: b) else {
                return "no file in \(layout.accepted(c.run))/ holds batch \(b.id.phase)/\(b.id.index) as it was merged "
                    + "(\(b.id.outputFileName), SHA-256 \(b.checksum)): put it back, or restore \(mainPath) and `resume`"
            }
            let job = Merger.Job(id: b.id, attempt: 0, path: path, checksum: b.checksum)
            let (result, newMain) = try merger.mergeOne(job, phase: phase, main: main, mainPath: mainPath, limit: ctx.spec.maxFileBytes)
            switch result {
            case .merged:
                if let newMain { main = newMain }
            case .changed:
                return "\(path) changed while it was read; nothing was replaced"
            case .conflict(let report):
                return "\(path) conflicts with the batches before it: \(report.errors.first?.message ?? "?"); nothing was replaced"
            case .mainFileChanged(let message):
                return message
            }
        }
        let facts = MainFileFacts(of: main)
        // The file it replaces is not the daemon's: the record's base is the new file itself,
        // so a crash before the replace leaves a main file that pauses the phase again.
        let record = MainFileRecord(base: facts, written: facts)
        var aside: String?
        if try FileSystem.lstatIfPresent(mainPath) != nil { // absent: nothing to keep
            // Fits in 255 bytes with its suffix (a long name is cut and given a hash).
            let base = Path.parent(mainPath) + "/" + DerivedName.fitting(Path.basename(mainPath) + ".before-rebuild", reserving: 12)
            var candidate = base
            var n = 1
            while try FileSystem.lstatIfPresent(candidate) != nil {
                n += 1
                candidate = base + ".\(n)"
            }
            aside = candidate
        }
        var rebuilt = Event(event: EventName.mainRebuilt, run: c.run, phase: phase.id, details: [
            .init("path", .string(mainPath)),
            .init("batches", .strings(batches.map { "\($0.id.phase)/\($0.id.index)" })),
        ])
        if let aside { rebuilt.details.append(.init("kept", .string(aside))) }
        try log.append([rebuilt, Event(event: EventName.mainWritten, run: c.run, phase: phase.id,
                                       details: [.init("path", .string(mainPath))] + record.details)])
        mainFiles[mainPath] = record
        do {
            if let aside { try FileSystem.renameNoReplace(mainPath, aside) }
            try AtomicFile.replace(mainPath, with: main, faultHook: FaultInjection.atomicStep)
        } catch let e as SystemError where !Daemon.isOwnDiskFailure(e) {
            return "\(e); the main file was not rebuilt"
        }
        return nil
    }

    /// The file in `accepted/` that holds what was merged for `b`: `<output name>` or a
    /// `<output name>.<n>` kept beside an earlier one, whose SHA-256 is the merged checksum.
    func acceptedFile(of b: MergedBatch) throws -> String? {
        let folder = layout.accepted(b.id.run)
        guard root.exists(folder), try folderIsOurs(folder, for: folder, run: b.id.run) else { return nil }
        let limit = runs[b.id.run]?.spec.maxFileBytes ?? (64 << 20)
        let names = try root.listDirectory(folder).map(\.name).filter { AcceptedName.holds($0, output: b.id.outputFileName) }
        for name in AcceptedName.ordered(names) {
            let path = folder + "/" + name
            if case .contents(let bytes, _) = SafeFile.readDropped(path, beneath: root, limit: limit), SHA256.hex(bytes) == b.checksum {
                return path
            }
        }
        return nil
    }
}
