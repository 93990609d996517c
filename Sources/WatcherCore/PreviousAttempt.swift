/// What a retry's prompt says about the attempt before it: where its file went, what failed in
/// it and what passed.
public struct PreviousAttempt: Equatable, Sendable {
    public var attempt: Int
    /// The attempt's file in `mailbox/<run>/rejected/`, or nil when it left no file
    /// (nothing written, timed out, crashed).
    public var file: String?
    public var report: ValidationReport
    /// The ids of the file's items that passed (its items minus the failed ones).
    public var passedItems: [String]

    public init(attempt: Int, file: String?, report: ValidationReport, passedItems: [String] = []) {
        self.attempt = attempt
        self.file = file
        self.report = report
        self.passedItems = passedItems
    }
}
