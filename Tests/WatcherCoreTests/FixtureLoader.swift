import Foundation
import Testing
import WatcherCore

/// Reads the real course data in `shared/fixtures/ssi-spa_for_eng/`, found by
/// walking up from this source file (symlinks resolved) to a folder that holds
/// `shared/fixtures/` (normally the package root's parent). Tests that need it
/// are disabled with `.enabled(if: FixtureLoader.available, ...)` when it is absent.
enum FixtureLoader {
    static let courseFolder = "shared/fixtures/ssi-spa_for_eng"

    static let directory: URL? = {
        var folder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/" && !folder.path.isEmpty {
            let candidate = folder.appendingPathComponent(courseFolder)
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("seed_pairs.json").path) {
                return candidate
            }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }()

    static var available: Bool { directory != nil }

    static let missingMessage: Comment = "fixtures not found: expected ../\(courseFolder)/ beside the package root"

    static func bytes(_ name: String) -> [UInt8] {
        guard let directory, let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else {
            return []
        }
        return [UInt8](data)
    }

    static let seedPairs: [UInt8] = bytes("seed_pairs.json")
    static let legoPairs: [UInt8] = bytes("lego_pairs.json")
    static let legoBaskets: [UInt8] = bytes("lego_baskets.json")

    static let seedPairsValue: JSONValue = (try? JSONParser.parse(seedPairs)) ?? .null
    static let legoPairsValue: JSONValue = (try? JSONParser.parse(legoPairs)) ?? .null
    static let legoBasketsValue: JSONValue = (try? JSONParser.parse(legoBaskets)) ?? .null

    /// The 0-based 20-seed batch of a seed id ("S0021" -> 1) or LEGO id ("S0021L03" -> 1).
    static func batchOf(_ id: String) -> Int? {
        let digits = id.dropFirst().prefix(4)
        guard id.first == "S", digits.count == 4, let number = Int(digits), number > 0 else { return nil }
        return (number - 1) / 20
    }

    /// A deterministic shuffle (SplitMix64), so failures reproduce.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
