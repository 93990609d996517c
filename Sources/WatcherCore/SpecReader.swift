/// Reads typed members out of parsed JSON (``JSONValue``), collecting every problem instead
/// of stopping at the first: wrong types, missing required keys, and unknown keys with the
/// nearest known one (`batchsize: unknown key; did you mean batchSize?`). Each problem gets
/// the key path and, from ``JSONKeyPositions``, its line and column.
struct SpecReader {
    private(set) var problems: [SpecProblem] = []
    let positions: JSONKeyPositions

    init(positions: JSONKeyPositions) { self.positions = positions }

    mutating func report(_ key: String, _ message: String) {
        problems.append(SpecProblem(key: key, message: message, position: positions.nearestPosition(of: key)))
    }

    /// One object being read: where it is and what it holds.
    struct Object {
        let path: String
        let value: JSONValue
        func path(_ key: String) -> String { JSONKeyPositions.join(path, key) }
        /// The member `key`; an optional member given as null counts as absent.
        subscript(key: String) -> JSONValue? { value[key] }
    }

    /// `value` as an object whose keys are all in `keys` (others are reported as unknown),
    /// or nil (reported) when it is not an object.
    mutating func object(_ value: JSONValue, at path: String, keys: [String]) -> Object? {
        guard let members = value.objectValue else {
            report(path, "expected an object, got \(value.kindDescription)")
            return nil
        }
        for member in members where !keys.contains(member.key) {
            report(JSONKeyPositions.join(path, member.key), Self.unknownKey(member.key, known: keys))
        }
        return Object(path: path, value: value)
    }

    /// "unknown key; did you mean batchSize?", or the list of keys when none is near.
    static func unknownKey(_ key: String, known: [String]) -> String {
        if let near = nearest(key, in: known) { return "unknown key; did you mean \(near)?" }
        return "unknown key; expected one of \(known.joined(separator: ", "))"
    }

    /// The known key closest to `key` by edit distance, ignoring case, if it is close enough
    /// to be a typo (at most a third of the key's length, and at least 2, edits away), else
    /// the first known key that begins with `key` (`timeout` for `timeoutSeconds`).
    static func nearest(_ key: String, in known: [String]) -> String? {
        let limit = max(2, key.count / 3)
        if key.count >= 3, let longer = known.first(where: { $0.lowercased().hasPrefix(key.lowercased()) }),
           editDistance(key.lowercased(), longer.lowercased()) > limit {
            return longer
        }
        let scored = known.map { ($0, editDistance(key.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= limit else { return nil }
        return best.0
    }

    /// Levenshtein distance between `a` and `b`, by characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// The member `key` converted by `convert`; nil when absent (reported if `required`),
    /// null (reported if `required`), or of the wrong kind (reported as "expected `expected`").
    mutating func member<T>(_ o: Object, _ key: String, required: Bool = false, expected: String,
                            _ convert: (JSONValue) -> T?) -> T? {
        let path = o.path(key)
        guard let value = o[key] else {
            if required { report(path, "missing; this key is required") }
            return nil
        }
        if value.isNull {
            if required { report(path, "expected \(expected), found null") }
            return nil
        }
        guard let converted = convert(value) else {
            report(path, "expected \(expected), got \(value.kindDescription)")
            return nil
        }
        return converted
    }

    mutating func string(_ o: Object, _ key: String, required: Bool = false) -> String? {
        member(o, key, required: required, expected: "a string") { $0.stringValue }
    }

    mutating func double(_ o: Object, _ key: String) -> Double? {
        member(o, key, expected: "a number") { $0.doubleValue }
    }

    mutating func int(_ o: Object, _ key: String) -> Int? {
        if let n = o[key]?.doubleValue, Int(exactly: n) == nil {
            report(o.path(key), "expected a whole number, got \(n)")
            return nil
        }
        return member(o, key, expected: "a whole number") { $0.intValue }
    }

    /// An array of elements each read by `element` (which reports its own problems).
    mutating func array<T>(_ o: Object, _ key: String, required: Bool = false,
                           _ element: (inout SpecReader, JSONValue, String) -> T?) -> [T]? {
        guard let list = member(o, key, required: required, expected: "an array", { $0.arrayValue }) else { return nil }
        var out: [T] = []
        var complete = true
        for (i, value) in list.enumerated() {
            if let t = element(&self, value, "\(o.path(key))[\(i)]") { out.append(t) } else { complete = false }
        }
        return complete ? out : nil
    }

    mutating func strings(_ o: Object, _ key: String, required: Bool = false) -> [String]? {
        array(o, key, required: required) { reader, value, path in
            guard let s = value.stringValue else { reader.report(path, "expected a string, got \(value.kindDescription)"); return nil }
            return s
        }
    }

    mutating func ints(_ o: Object, _ key: String) -> [Int]? {
        array(o, key) { reader, value, path in
            guard let n = value.intValue else { reader.report(path, "expected a whole number, got \(value)"); return nil }
            return n
        }
    }

    /// An object of string values.
    mutating func stringMap(_ o: Object, _ key: String) -> [String: String]? {
        guard let members = member(o, key, expected: "an object", { $0.objectValue }) else { return nil }
        var out: [String: String] = [:]
        for m in members {
            guard let s = m.value.stringValue else {
                report(o.path(key) + "." + m.key, "expected a string, got \(m.value.kindDescription)")
                continue
            }
            out[m.key] = s
        }
        return out
    }

    /// One of a fixed set of strings.
    mutating func oneOf<E: RawRepresentable & CaseIterable>(_ o: Object, _ key: String, required: Bool = false,
                                                            _: E.Type = E.self) -> E? where E.RawValue == String {
        let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
        guard let value = member(o, key, required: required, expected: "one of \(allowed)", { $0 }) else { return nil }
        guard let s = value.stringValue else {
            report(o.path(key), "expected one of \(allowed), got \(value.kindDescription)")
            return nil
        }
        guard let e = E(rawValue: s) else {
            report(o.path(key), "expected one of \(allowed), got \"\(s)\"")
            return nil
        }
        return e
    }
}
