/// The names a merged batch file is kept under in `accepted/`: its output name, or the output
/// name with a `.<n>` suffix (n ≥ 2) when an earlier file had the name.
public enum AcceptedName {
    /// Whether `name` is one of them for the batch output name `output`.
    public static func holds(_ name: String, output: String) -> Bool {
        if name == output { return true }
        guard name.hasPrefix(output + ".") else { return false }
        let suffix = name.dropFirst(output.count + 1)
        guard let n = Int(suffix), n >= 2 else { return false }
        return String(n) == suffix
    }

    /// The plain name first, then by suffix number.
    public static func ordered(_ names: [String]) -> [String] {
        func n(_ name: String) -> Int { name.split(separator: ".").last.flatMap { Int($0) } ?? 1 }
        return names.sorted { (n($0), $0) < (n($1), $1) }
    }
}
