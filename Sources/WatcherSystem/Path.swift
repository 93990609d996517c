/// Plain string helpers for absolute and relative paths. No system calls.
public enum Path {
    /// `dir + "/" + name`, without doubling a trailing slash.
    public static func join(_ dir: String, _ name: String) -> String {
        if dir.isEmpty { return name }
        if dir.hasSuffix("/") { return dir + name }
        return dir + "/" + name
    }

    /// The last component: `basename("/a/b.json") == "b.json"`.
    public static func basename(_ path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// Everything before the last component: `parent("/a/b") == "/a"`,
    /// `parent("/a") == "/"`, `parent("b") == "."`.
    public static func parent(_ path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return trimmingTrailingSlashes(String(trimmed[..<slash]))
    }

    /// Removes trailing slashes, keeping a lone `/`.
    public static func trimmingTrailingSlashes(_ path: String) -> String {
        var result = Substring(path)
        while result.utf8.count > 1 && result.utf8.last == UInt8(ascii: "/") { result = result.dropLast() }
        return String(result)
    }
}
