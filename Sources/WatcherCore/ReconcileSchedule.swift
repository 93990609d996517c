/// How often the mailbox is scanned for files inotify cannot see (writes from other hosts on a
/// network filesystem). Pure: the runs' `reconcileSeconds` and what `statfs` said in, an interval out.
public enum ReconcileSchedule {
    /// The default on a network filesystem.
    public static let networkSeconds = 15.0

    /// The smallest `reconcileSeconds` a run sets (0: never); none set: every ``networkSeconds``
    /// when the mailbox is on a network filesystem, else never. nil means no scan.
    public static func interval(configured: [Double], networkFilesystem: String?) -> Double? {
        if let s = configured.min() { return s > 0 ? s : nil }
        return networkFilesystem == nil ? nil : networkSeconds
    }
}
