import WatcherCore

/// What the simulated agent does with the validator's errors in a retry prompt, as a real agent
/// would: the course rules' errors name the item and say what is wrong, and the repair follows
/// from them and from the item itself.
///
/// - `uncovered_word` (phase 3, a seed): a LEGO is added whose target is the uncovered word, with
///   the known text of the closest-spelt word of the seed's LEGOs or components (S0003's
///   "frecuentamente" gets the known text of "frecuentemente", "often/frequently"); its id is the
///   seed's next `L` number, type "A", `"new": true`.
/// - `empty_basket` / `missing_basket` (phase 5, a LEGO's basket): one practice phrase made of
///   the LEGO's own known and target texts (the LEGO found in the basket, else in the input seeds).
///
/// Pure: the same item and errors always give the same repair, so the demo's summary can check
/// the merged files against the course data plus these repairs.
public enum Repairs {
    /// One error line of a retry prompt (`- S0003 [uncovered_word]: message Suggestion: ...`).
    public struct NamedError: Equatable, Sendable {
        public var item: String
        public var type: String
        public var message: String
        public init(item: String, type: String, message: String) {
            self.item = item
            self.type = type
            self.message = message
        }
    }

    /// The error types a repair exists for.
    public static let repairable: Set<String> = [
        ValidationErrorType.uncoveredWord, ValidationErrorType.emptyBasket, ValidationErrorType.missingBasket,
    ]

    /// The errors naming an item in the prompt's retry section ("## Fix these errors ...").
    public static func errors(inPrompt prompt: String) -> [NamedError] {
        guard let section = prompt.range(of: "## Fix these errors from the previous attempt") else { return [] }
        var result: [NamedError] = []
        for line in prompt[section.upperBound...].split(separator: "\n") where line.hasPrefix("- ") {
            let body = line.dropFirst(2)
            guard let open = body.firstIndex(of: "["), let close = body[open...].firstIndex(of: "]"),
                  body[close...].hasPrefix("]: ") else { continue }
            let item = body[..<open].trimmingCharacters()
            guard !item.isEmpty else { continue }
            var message = String(body[body.index(close, offsetBy: 3)...])
            if let s = message.range(of: " Suggestion: ") { message = String(message[..<s.lowerBound]) }
            result.append(NamedError(item: item, type: String(body[body.index(after: open)..<close]), message: message))
        }
        return result
    }

    /// The previous attempt's file the prompt says to start from, if any.
    public static func previousFile(inPrompt prompt: String) -> String? {
        guard let r = prompt.range(of: "Start from the previous attempt's file at ") else { return nil }
        let rest = prompt[r.upperBound...]
        guard let end = rest.range(of: ": keep the items") else { return nil }
        return String(rest[..<end.lowerBound])
    }

    /// The prompt's input items (the JSON block after "Input items:"), as values.
    public static func inputItems(inPrompt prompt: String) -> [JSONValue] {
        guard let r = prompt.range(of: "Input items:\n\n```json\n") else { return [] }
        let rest = prompt[r.upperBound...]
        guard let end = rest.range(of: "\n```") else { return [] }
        guard let value = try? JSONParser.parse(Array(rest[..<end.lowerBound].utf8)) else { return [] }
        switch value {
        case .array(let items): return items
        case .object(let members): return members.map(\.value)
        default: return []
        }
    }

    /// The words a message quotes (`target words "a", "b" are ...` -> ["a", "b"]).
    public static func quotedWords(_ message: String) -> [String] {
        message.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// The item repaired for the errors that name it, or nil when none of them is repairable.
    /// `inputSeeds` are phase 5's input (phase 3's seeds), where a missing basket's LEGO is found.
    public static func repair(_ item: JSONValue?, id: String, errors: [NamedError], inputSeeds: [JSONValue]) -> JSONValue? {
        let mine = errors.filter { $0.item == id && repairable.contains($0.type) }
        guard !mine.isEmpty else { return nil }
        var result = item
        for error in mine {
            switch error.type {
            case ValidationErrorType.uncoveredWord:
                guard let seed = result else { continue }
                result = addLego(to: seed, covering: quotedWords(error.message))
            default:
                result = basketWithPhrase(result, legoID: id, inputSeeds: inputSeeds)
            }
        }
        return result
    }

    /// `seed` with one more LEGO per uncovered word.
    public static func addLego(to seed: JSONValue, covering words: [String]) -> JSONValue {
        guard case .object(var members) = seed, let seedID = seed["seed_id"]?.stringValue else { return seed }
        var legos = seed["legos"]?.arrayValue ?? []
        var pairs: [(known: String, target: String)] = []
        for lego in legos {
            if let k = lego["lego"]?["known"]?.stringValue, let t = lego["lego"]?["target"]?.stringValue { pairs.append((k, t)) }
            for c in lego["components"]?.arrayValue ?? [] {
                if let k = c["known"]?.stringValue, let t = c["target"]?.stringValue { pairs.append((k, t)) }
            }
        }
        var next = legos.compactMap { $0["id"]?.stringValue.flatMap { Int($0.dropFirst(seedID.count + 1)) } }.max() ?? 0
        for word in words {
            next += 1
            let known = closestKnown(to: word, in: pairs) ?? word
            let id = seedID + "L" + (next < 10 ? "0" : "") + String(next)
            legos.append(["id": .string(id), "type": "A", "new": true,
                          "lego": ["known": .string(known), "target": .string(word)]])
        }
        if let i = members.firstIndex(where: { $0.key == "legos" }) {
            members[i].value = .array(legos)
        } else {
            members.append((key: "legos", value: .array(legos)))
        }
        return .object(members)
    }

    /// The known text of the single-word target closest in spelling to `word` (at most a third
    /// of its letters apart), or nil.
    static func closestKnown(to word: String, in pairs: [(known: String, target: String)]) -> String? {
        var best: (distance: Int, known: String)?
        for pair in pairs {
            let words = CourseRules.words(in: pair.target)
            guard words.count == 1 else { continue }
            let d = distance(Array(word), Array(words[0]))
            if d <= max(1, word.count / 3), best.map({ d < $0.distance }) ?? true { best = (d, pair.known) }
        }
        return best?.known
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let old = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = old
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }

    /// A basket for `legoID` with one practice phrase (the LEGO's own known/target) when it has
    /// none; the rest of the basket is kept.
    public static func basketWithPhrase(_ basket: JSONValue?, legoID: String, inputSeeds: [JSONValue]) -> JSONValue? {
        var pair = basket?["lego"]
        if pair?["known"]?.stringValue == nil || pair?["target"]?.stringValue == nil {
            pair = inputSeeds.lazy.flatMap { $0["legos"]?.arrayValue ?? [] }
                .first { $0["id"]?.stringValue == legoID }?["lego"]
        }
        guard let known = pair?["known"]?.stringValue, let target = pair?["target"]?.stringValue else { return basket }
        if basket?["practice_phrases"]?.arrayValue?.isEmpty == false { return basket }
        let phrases: JSONValue = [["known": .string(known), "target": .string(target)]]
        guard case .object(var members)? = basket else {
            return ["lego": ["known": .string(known), "target": .string(target)], "is_final_lego": false,
                    "practice_phrases": phrases, "phrase_count": 1]
        }
        if !members.contains(where: { $0.key == "lego" }) {
            members.insert((key: "lego", value: ["known": .string(known), "target": .string(target)]), at: 0)
        }
        for (key, value) in [("practice_phrases", phrases), ("phrase_count", JSONValue.number(1))] {
            if let i = members.firstIndex(where: { $0.key == key }) { members[i].value = value } else { members.append((key, value)) }
        }
        return .object(members)
    }

    /// A few words on what a repair did, for the demo's summary.
    public static func describe(original: JSONValue?, repaired: JSONValue) -> String {
        let before = Set((original?["legos"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
        let added = (repaired["legos"]?.arrayValue ?? []).filter { !before.contains($0["id"]?.stringValue ?? "") }
        if !added.isEmpty {
            return "added " + added.map { lego in
                "LEGO \(lego["id"]?.stringValue ?? "?") (\(lego["lego"]?["target"]?.stringValue ?? "?") = \(lego["lego"]?["known"]?.stringValue ?? "?"))"
            }.joined(separator: ", ")
        }
        return original == nil ? "wrote the missing basket with a practice phrase" : "added a practice phrase"
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
