import Foundation
import WatcherCore
import WatcherSystem

/// A pipeline spec that cannot be used: names the file, the key and what was expected.
public struct SpecError: Error, CustomStringConvertible {
    public var path: String
    public var problems: [String]
    public var description: String { problems.map { "\(path): \($0)" }.joined(separator: "\n") }
}

public enum SpecLoader {
    public static func load(_ path: String) throws -> PipelineSpec {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path) } catch {
            throw SpecError(path: path, problems: ["cannot read the pipeline spec: \(error)"])
        }
        return try parse(bytes, path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> PipelineSpec {
        let tree: JSONValue
        do { tree = try JSONParser.parse(bytes) } catch {
            throw SpecError(path: path, problems: ["not valid JSON: \(error)"])
        }
        var spec: PipelineSpec
        do {
            spec = try JSONDecoder().decode(PipelineSpec.self, from: Data(bytes))
        } catch let e as DecodingError {
            if case .dataCorrupted(let ctx) = e, ctx.codingPath.isEmpty, let p = fractionInWholeNumber(tree) {
                throw SpecError(path: path, problems: [p])
            }
            throw SpecError(path: path, problems: [describe(e)])
        }
        // Codable loses member order; take each template's text from the parsed tree instead.
        for i in spec.phases.indices where spec.phases[i].output.template != nil {
            if let t = tree["phases"]?[i]?["output"]?["template"] {
                spec.phases[i].output.template = JSONTemplate(text: t.serialized())
            }
        }
        let problems = spec.problems()
        if !problems.isEmpty { throw SpecError(path: path, problems: problems) }
        return spec
    }

    /// Foundation's decoder reports a fraction where a whole number belongs as "not valid JSON",
    /// naming no key: find the key in the parsed tree instead.
    static func fractionInWholeNumber(_ tree: JSONValue) -> String? {
        var found: [(String, Double)] = ["version", "batchSize", "concurrency", "maxAttempts", "settleMilliseconds", "maxFileBytes"]
            .compactMap { k in tree[k]?.doubleValue.map { (k, $0) } }
        for (i, p) in (tree["phases"]?.arrayValue ?? []).enumerated() {
            if let n = p["maxAttempts"]?.doubleValue { found.append(("phases[\(i)].maxAttempts", n)) }
        }
        guard let (key, n) = found.first(where: { Int(exactly: $0.1) == nil }) else { return nil }
        return "\(key): expected a whole number, got \(n)"
    }

    static func keyPath(_ path: [any CodingKey]) -> String {
        var s = ""
        for k in path {
            if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
        }
        return s.isEmpty ? "(top level)" : s
    }

    static func describe(_ e: DecodingError) -> String {
        switch e {
        case .keyNotFound(let key, let ctx):
            let at = keyPath(ctx.codingPath + [key])
            return "\(at): missing; this key is required"
        case .typeMismatch(let type, let ctx):
            if let allowed = allowedValues(ctx.codingPath) { return "\(keyPath(ctx.codingPath)): expected one of \(allowed)" }
            return "\(keyPath(ctx.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let ctx):
            return "\(keyPath(ctx.codingPath)): expected \(typeName(type)), found null"
        case .dataCorrupted(let ctx):
            if let allowed = allowedValues(ctx.codingPath) {
                let got = ctx.debugDescription.components(separatedBy: "invalid String value ").last.map { ", got \"\($0)\"" } ?? ""
                return "\(keyPath(ctx.codingPath)): expected one of \(allowed)\(got)"
            }
            return "\(keyPath(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default:
            return "\(e)"
        }
    }

    /// The values a key with a fixed set of values takes, by the key's name.
    static func allowedValues(_ path: [any CodingKey]) -> String? {
        switch path.last?.stringValue {
        case "strategy"?: return MergeStrategy.allCases.map(\.rawValue).joined(separator: ", ")
        case "prompt"?: return "stdin, file"
        case "expectIds"?: return "batch, any"
        default: return nil
        }
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: return "a string"
        case is Int.Type: return "a whole number"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is MergeStrategy.Type: return "one of object, array, jsonl"
        default:
            let n = "\(t)"
            if n.hasPrefix("Array") { return "an array" }
            if n.hasPrefix("Dictionary") { return "an object" }
            return "a \(n)"
        }
    }
}
