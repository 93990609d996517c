import WatcherCore

/// The demo course's phase rules (spa_for_eng: translation, LEGO
/// decomposition, practice baskets), run on a batch's items after ``BatchChecks``.
///
/// Every error names the item it concerns (seed id, or LEGO id for baskets).
public enum CourseRules {
    // MARK: Phase 1: seed pairs

    /// Every item is an object with non-empty string `known` and `target`.
    public static func seedPairs(items: [BatchItem]) -> [ValidationError] {
        var errors: [ValidationError] = []
        for item in items {
            guard case .object = item.value else {
                errors.append(notAnObject(item, expecting: "\"known\" and \"target\""))
                continue
            }
            _ = text(item.value["known"], path: "known", item: item.id, into: &errors)
            _ = text(item.value["target"], path: "target", item: item.id, into: &errors)
        }
        return errors
    }

    // MARK: Phase 3: LEGO pairs

    /// Checks phase-3 seed items (`{"seed_id", "seed_pair": {"known", "target"},
    /// "legos": [{"id", "type", "new", "lego": {"known", "target"}, "components"}]}`):
    ///
    /// - `seed_pair.known` and `seed_pair.target` are non-empty strings;
    /// - `legos` is an array (it may be empty: LEGOs already taught by an
    ///   earlier seed are left out, so a seed made only of known LEGOs has
    ///   none; 11 fixture seeds are like that); every LEGO has a non-empty `id`, a
    ///   `type` of "A" or "M", and non-empty `lego.known` and `lego.target`;
    /// - every word of the seed's target is covered: it is a word of some
    ///   LEGO's target (its `lego.target` or a `components[].target`) of this
    ///   seed or of an earlier seed of this batch, or it is in
    ///   `knownWordsBefore` (the words of the LEGOs of already-merged earlier
    ///   seeds, see `targetWords(ofSeedItem:)`). One
    ///   `uncovered_word` error per seed lists its uncovered words.
    ///
    /// Words are as ``words(in:)`` splits them.
    public static func legoPairs(items: [BatchItem], knownWordsBefore: Set<String>) -> [ValidationError] {
        var errors: [ValidationError] = []
        var known = knownWordsBefore
        for item in items {
            let seed = item.value
            guard case .object = seed else {
                errors.append(notAnObject(item, expecting: "\"seed_id\", \"seed_pair\" and \"legos\""))
                continue
            }
            var seedTarget: String?
            if let pair = seed["seed_pair"] {
                _ = text(pair["known"], path: "seed_pair.known", item: item.id, into: &errors)
                seedTarget = text(pair["target"], path: "seed_pair.target", item: item.id, into: &errors)
            } else {
                errors.append(missingField("seed_pair", item: item.id))
            }
            checkLegos(seed["legos"], item: item.id, into: &errors)
            known.formUnion(targetWords(ofSeedItem: seed))

            guard let seedTarget else { continue }
            var uncovered: [String] = []
            for word in words(in: seedTarget) where !known.contains(word) && !uncovered.contains(word) {
                uncovered.append(word)
            }
            guard !uncovered.isEmpty else { continue }
            let quoted = uncovered.map { "\"\($0)\"" }.joined(separator: ", ")
            let message = uncovered.count == 1
                ? "target word \(quoted) is not covered by any LEGO of this seed or an earlier seed"
                : "target words \(quoted) are not covered by any LEGO of this seed or an earlier seed"
            errors.append(ValidationError(
                type: ValidationErrorType.uncoveredWord, item: item.id, message: message,
                suggestion: "Add a LEGO whose target contains \(uncovered.count == 1 ? "it" : "them"), or correct the spelling in seed_pair.target."))
        }
        return errors
    }

    /// The words of all LEGO targets of a phase-3 seed object: each LEGO's
    /// `lego.target` and its `components[].target`. Accumulate these over
    /// merged seeds to get `knownWordsBefore`.
    public static func targetWords(ofSeedItem seed: JSONValue) -> Set<String> {
        var result: Set<String> = []
        for lego in seed["legos"]?.arrayValue ?? [] {
            if let target = lego["lego"]?["target"]?.stringValue {
                result.formUnion(words(in: target))
            }
            for component in lego["components"]?.arrayValue ?? [] {
                if let target = component["target"]?.stringValue {
                    result.formUnion(words(in: target))
                }
            }
        }
        return result
    }

    public static func targetWords(ofSeedItem item: BatchItem) -> Set<String> {
        targetWords(ofSeedItem: item.value)
    }

    /// Lowercases `text` and splits it on every character that is neither a
    /// letter nor a number (Unicode-aware: "é", "ñ" are letters).
    /// `"¿Qué piensan?"` -> `["qué", "piensan"]`.
    public static func words(in text: String) -> [String] {
        var result: [String] = []
        var current = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                result.append(current)
                current = ""
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    // MARK: Phase 5: LEGO baskets

    /// The ids of the LEGOs marked `"new": true` in phase-3 seed objects, in order.
    public static func newLegoIds(of seeds: [JSONValue]) -> [String] {
        var ids: [String] = []
        for seed in seeds {
            for lego in seed["legos"]?.arrayValue ?? [] where lego["new"]?.boolValue == true {
                if let id = lego["id"]?.stringValue { ids.append(id) }
            }
        }
        return ids
    }

    /// Baskets are keyed by LEGO id. Every new LEGO (`"new": true`) of the
    /// batch's input seeds (phase-3 seed objects) needs a basket
    /// (`missing_basket`) whose `practice_phrases` has at least one element
    /// (`empty_basket`); a basket for any other id is an `extra_item`.
    public static func legoBaskets(items: [BatchItem], inputSeeds: [JSONValue]) -> [ValidationError] {
        var errors: [ValidationError] = []
        let newIds = newLegoIds(of: inputSeeds)
        let newSet = Set(newIds)
        var baskets: [String: BatchItem] = [:]
        for item in items where baskets[item.id] == nil {
            baskets[item.id] = item
        }
        for id in newIds {
            guard let basket = baskets[id] else {
                errors.append(ValidationError(
                    type: ValidationErrorType.missingBasket, item: id,
                    message: "no basket for the new LEGO \(id)",
                    suggestion: "Add a basket keyed \"\(id)\" with at least one practice phrase."))
                continue
            }
            let phrases = basket.value["practice_phrases"]
            if phrases?.arrayValue?.isEmpty == false { continue }
            let detail: String
            switch phrases {
            case nil: detail = "has no \"practice_phrases\""
            case .array?: detail = "has an empty \"practice_phrases\""
            case let other?: detail = "has \"practice_phrases\" as \(other.kindDescription), not an array"
            }
            errors.append(ValidationError(
                type: ValidationErrorType.emptyBasket, item: id,
                message: "the basket for \(id) \(detail)",
                suggestion: "Give \(id) a \"practice_phrases\" array with at least one {\"known\", \"target\"} phrase."))
        }
        for item in items where !newSet.contains(item.id) {
            errors.append(ValidationError(
                type: ValidationErrorType.extraItem, item: item.id,
                message: "\(item.id) is not a new LEGO of this batch's seeds",
                suggestion: "Remove the basket \(item.id); write baskets only for this batch's new LEGOs."))
        }
        return errors
    }

    // MARK: Helpers

    static func checkLegos(_ legos: JSONValue?, item: String, into errors: inout [ValidationError]) {
        guard let legos else {
            errors.append(missingField("legos", item: item))
            return
        }
        guard case .array(let list) = legos else {
            errors.append(ValidationError(
                type: ValidationErrorType.invalidItem, item: item,
                message: "\"legos\" must be an array, found \(legos.kindDescription)",
                suggestion: "Write \"legos\" as an array of LEGO objects."))
            return
        }
        for (position, lego) in list.enumerated() {
            let path = "legos[\(position)]"
            guard case .object = lego else {
                errors.append(ValidationError(
                    type: ValidationErrorType.invalidItem, item: item,
                    message: "\(path) must be an object, found \(lego.kindDescription)",
                    suggestion: "Write each LEGO as {\"id\", \"type\", \"new\", \"lego\": {\"known\", \"target\"}}."))
                continue
            }
            _ = text(lego["id"], path: "\(path).id", item: item, into: &errors)
            if let type = text(lego["type"], path: "\(path).type", item: item, into: &errors), type != "A", type != "M" {
                errors.append(ValidationError(
                    type: ValidationErrorType.invalidItem, item: item,
                    message: "\(path).type must be \"A\" or \"M\", found \"\(type)\"",
                    suggestion: "Use \"A\" for an atomic LEGO and \"M\" for a molecular one."))
            }
            if let pair = lego["lego"] {
                _ = text(pair["known"], path: "\(path).lego.known", item: item, into: &errors)
                _ = text(pair["target"], path: "\(path).lego.target", item: item, into: &errors)
            } else {
                errors.append(missingField("\(path).lego", item: item))
            }
        }
    }

    /// The field's text if it is a non-blank string; otherwise records why not.
    static func text(_ value: JSONValue?, path: String, item: String, into errors: inout [ValidationError]) -> String? {
        guard let value else {
            errors.append(missingField(path, item: item))
            return nil
        }
        guard case .string(let string) = value else {
            errors.append(ValidationError(
                type: ValidationErrorType.invalidItem, item: item,
                message: "\"\(path)\" must be a string, found \(value.kindDescription)",
                suggestion: "Write \"\(path)\" as a non-empty string."))
            return nil
        }
        if string.allSatisfy(\.isWhitespace) {
            errors.append(ValidationError(
                type: ValidationErrorType.emptyField, item: item, message: "\"\(path)\" is empty",
                suggestion: "Fill in \"\(path)\"."))
            return nil
        }
        return string
    }

    static func missingField(_ path: String, item: String) -> ValidationError {
        ValidationError(
            type: ValidationErrorType.missingField, item: item, message: "\"\(path)\" is missing",
            suggestion: "Add \"\(path)\".")
    }

    static func notAnObject(_ item: BatchItem, expecting fields: String) -> ValidationError {
        ValidationError(
            type: ValidationErrorType.invalidItem, item: item.id,
            message: "\(item.id) must be an object, found \(item.value.kindDescription)",
            suggestion: "Write \(item.id) as an object with \(fields).")
    }
}
