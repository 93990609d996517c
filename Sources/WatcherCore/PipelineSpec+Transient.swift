extension PipelineSpec.Transient {
    public static let defaults = PipelineSpec.Transient()

    /// The pattern (or `exit N`) that marks an agent's failure as its CLI's service failing, if
    /// any: an exit code of the list, or a regular expression over the tail of its log. A
    /// pattern that does not compile never matches (the spec check refuses it before a run).
    public func match(exitCode: Int?, logTail: String) -> String? {
        if let exitCode, exitCodes.contains(exitCode) { return "exit \(exitCode)" }
        guard !logTail.isEmpty else { return nil }
        for p in patterns {
            guard let regex = try? Regex(p) else { continue } // refused at load: see PipelineSpec+Decoding
            if logTail.contains(regex) { return p }
        }
        return nil
    }
}
