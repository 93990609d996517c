import WatcherCore
import WatcherSystem

/// A pipeline spec that cannot be used: names the file, and for each problem the key, what
/// was expected and (when known) the line and column.
public struct SpecError: Error, CustomStringConvertible {
    public var path: String
    public var problems: [SpecProblem]

    public init(path: String, problems: [SpecProblem]) {
        self.path = path
        self.problems = problems
    }

    /// Problems given as text, each already `key: what was expected`.
    public init(path: String, problems: [String]) {
        self.init(path: path, problems: problems.map { SpecProblem(key: "", message: $0) })
    }

    /// One line per problem: `<file>: <key>: <what was expected> (line L, column C)`.
    public var description: String { problems.map { "\(path): \($0)" }.joined(separator: "\n") }
}

/// Reads a pipeline spec file (``PipelineSpec/decode(_:)``), naming the file in every problem.
public enum SpecLoader {
    public static func load(_ path: String) throws -> PipelineSpec {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path) } catch {
            throw SpecError(path: path, problems: ["cannot read the pipeline spec: \(error)"])
        }
        return try parse(bytes, path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> PipelineSpec {
        switch PipelineSpec.decode(bytes) {
        case .success(let spec): return spec
        case .failure(let e): throw SpecError(path: path, problems: e.problems)
        }
    }
}
