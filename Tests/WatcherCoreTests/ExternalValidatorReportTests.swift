import Testing
import WatcherCore

@Suite("ExternalValidatorReport")
struct ExternalValidatorReportTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let status: Int32
        let stdout: String
        let errors: [ValidationError]
        var stats: [String: Int] = [:]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        .init(name: "exit 0 is valid whatever stdout says", status: 0,
              stdout: #"{"errors": [{"message": "ignored"}]}"#, errors: []),
        .init(name: "structured errors", status: 1, stdout: """
            {"errors": [
              {"type": "tiling", "item": "S0003", "message": "gap", "suggestion": "fill it"},
              {"item": 12, "message": "no type"},
              {"type": "", "message": "empty type"},
              "plain string",
              {"type": "x"}
            ], "stats": {"checked": 20, "ratio": 0.5}}
            """, errors: [
                ValidationError(type: "tiling", item: "S0003", message: "gap", suggestion: "fill it"),
                ValidationError(type: "external", item: "12", message: "no type"),
                ValidationError(type: "external", message: "empty type"),
                ValidationError(type: "external", message: "plain string"),
                ValidationError(type: "x", message: #"{"type":"x"}"#),
            ], stats: ["checked": 20]),
        .init(name: "plain text is trimmed", status: 2, stdout: "\n  S0003: bad tiling\n\n",
              errors: [ValidationError(type: "external", message: "S0003: bad tiling")]),
        .init(name: "JSON without errors is text", status: 1, stdout: #"{"ok": false}"#,
              errors: [ValidationError(type: "external", message: #"{"ok": false}"#)]),
        .init(name: "an empty errors list is text", status: 1, stdout: #"{"errors": []}"#,
              errors: [ValidationError(type: "external", message: #"{"errors": []}"#)]),
        .init(name: "no output", status: 3, stdout: " \n",
              errors: [ValidationError(type: "external", message: "validator exited with status 3")]),
        .init(name: "killed", status: -9, stdout: "",
              errors: [ValidationError(type: "external", message: "validator exited with status -9")]),
    ]

    @Test(arguments: cases)
    func parses(_ testCase: Case) {
        let report = ExternalValidatorReport.parse(exitStatus: testCase.status, stdout: Array(testCase.stdout.utf8))
        #expect(report.errors == testCase.errors)
        #expect(report.valid == testCase.errors.isEmpty)
        #expect(report.stats == testCase.stats)
        #expect(report.failedItems == Array(Set(testCase.errors.compactMap(\.item))).sorted())
    }

    @Test func longOutputIsCappedWithoutSplittingCharacters() {
        let stdout = Array(("x" + String(repeating: "é", count: 5000)).utf8)
        let report = ExternalValidatorReport.parse(exitStatus: 1, stdout: stdout)
        let message = report.errors[0].message
        #expect(message.hasSuffix("\n[output truncated]"))
        let kept = message.dropLast("\n[output truncated]".count)
        #expect(kept.utf8.count <= 4096)
        #expect(kept.utf8.count >= 4094)
        #expect(kept.allSatisfy { $0 == "x" || $0 == "é" })
    }

    @Test func feedbackForRetryPrompts() {
        let report = ValidationReport.from(errors: [
            ValidationError(type: "invalid_item", item: "S0002", message: "bad\nthing", suggestion: "fix it"),
            ValidationError(type: "uncovered_word", item: "S0003", message: #"target word "x" is not covered"#,
                            suggestion: "Add a LEGO."),
            ValidationError(type: "external", item: nil, message: "validator said no"),
        ], stats: ["items": 2])
        #expect(report.failedItems == ["S0002", "S0003"])
        #expect(!report.valid)
        #expect(report.feedback() == """
        - S0002 [invalid_item]: bad thing Suggestion: fix it
        - S0003 [uncovered_word]: target word "x" is not covered Suggestion: Add a LEGO.
        - [external]: validator said no
        """)
        #expect(report.feedback(forItems: ["S0003"]) == """
        - S0003 [uncovered_word]: target word "x" is not covered Suggestion: Add a LEGO.
        - [external]: validator said no
        """)
        let merged = report.merged(with: .from(errors: [ValidationError(type: "conflict", item: "S0001", message: "m")], stats: ["items": 1]))
        #expect(merged.failedItems == ["S0001", "S0002", "S0003"])
        #expect(merged.stats == ["items": 3])
        #expect(ValidationReport.passed.valid && ValidationReport.passed.failedItems.isEmpty)
    }
}
