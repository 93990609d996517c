import Foundation
import Testing

/// The real course data in `shared/fixtures/ssi-spa_for_eng/`, found by walking up from this
/// source file (symlinks resolved) to the folder that holds it (normally the package root's
/// parent). Tests that need it are disabled with `.enabled(if: CourseFixtures.available, ...)`.
enum CourseFixtures {
    static let courseFolder = "shared/fixtures/ssi-spa_for_eng"

    static let directory: String? = {
        var folder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().path
        while folder != "/" && !folder.isEmpty {
            if FileManager.default.fileExists(atPath: "\(folder)/\(courseFolder)/seed_pairs.json") {
                return "\(folder)/\(courseFolder)"
            }
            folder = (folder as NSString).deletingLastPathComponent
        }
        return nil
    }()

    static var available: Bool { directory != nil }

    static let missingMessage: Comment = "fixtures not found: expected ../\(courseFolder)/ beside the package root"

    static let legoPairs: [UInt8] = bytes("lego_pairs.json")
    static let legoBaskets: [UInt8] = bytes("lego_baskets.json")

    /// The file's bytes, or none when the fixtures are absent (the tests using them are disabled then).
    static func bytes(_ name: String) -> [UInt8] {
        guard let directory, let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { return [] }
        return [UInt8](data)
    }

    /// The 0-based 20-seed batch of a seed id ("S0021" -> 1) or LEGO id ("S0021L03" -> 1).
    static func batchOf(_ id: String) -> Int? {
        let digits = id.dropFirst().prefix(4)
        guard id.first == "S", digits.count == 4, let number = Int(digits), number > 0 else { return nil }
        return (number - 1) / 20
    }
}
