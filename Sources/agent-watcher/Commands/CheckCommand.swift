import AgentWatcher
import Foundation
import WatcherCore

/// `check PIPELINE... `: every problem of the specs, as `run` would find them, at once.
/// `check --prompt PHASE BATCH PIPELINE [--root DIR]`: the prompt attempt 1 of that batch would get.
enum CheckCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        var pipelines = args.options("pipeline")
        let promptPhase = args.option("prompt")
        let root = args.root
        var positionals = args.positionals
        let absolute = Arguments.absolute
        let searchPath = ProcessInfo.processInfo.environment["PATH"]
        if let phase = promptPhase {
            if args.flag("json") { throw args.usageError("--json is for the spec checks, not --prompt") }
            guard !positionals.isEmpty, let batch = Int(positionals.removeFirst()), batch >= 1 else {
                throw UsageError("check --prompt PHASE BATCH PIPELINE: BATCH must be a whole number ≥ 1")
            }
            pipelines += positionals
            guard pipelines.count == 1 else { throw UsageError("check --prompt PHASE BATCH PIPELINE takes one pipeline") }
            let report = SpecChecker.check([absolute(pipelines[0])], searchPath: searchPath, rules: RegisteredRules.registry)[0]
            guard let context = report.context else {
                for line in report.problems { Console.error(line) }
                return 1
            }
            Console.out(try SpecChecker.firstPrompt(context, phase: phase, batch: batch, root: root))
            return 0
        }
        pipelines += positionals
        guard !pipelines.isEmpty else { throw UsageError("check needs at least one PIPELINE file") }
        let reports = SpecChecker.check(pipelines.map(absolute), searchPath: searchPath, rules: RegisteredRules.registry)
        if args.flag("json") {
            Console.out(OutputJSON.check(reports.map { r in
                OutputJSON.SpecOutcome(path: r.path, run: r.context?.run, phases: r.context?.spec.phases.count,
                                       items: r.context?.itemIDs.count, batches: r.context?.plan.batchCount, problems: r.problems)
            }).description)
            return reports.allSatisfy(\.isClean) ? 0 : 1
        }
        for r in reports {
            if let ok = r.summary { Console.out(ok) }
            for line in r.problems { Console.error(line) }
        }
        return reports.allSatisfy(\.isClean) ? 0 : 1
    }
}
