/// A point on the monotonic clock, in nanoseconds. The shell reads the clock; the core only
/// compares and adds.
public struct Instant: Comparable, Hashable, Sendable {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    public func adding(milliseconds: Int) -> Instant {
        Instant(nanoseconds: nanoseconds &+ UInt64(max(0, milliseconds)) &* 1_000_000)
    }

    public func adding(seconds: Double) -> Instant {
        Instant(nanoseconds: nanoseconds &+ UInt64(max(0, seconds) * 1e9))
    }

    /// Nanoseconds from `self` until `later` (0 when `later` is not later): the loop's wait, to the
    /// nanosecond, so a deadline fires when it falls due, not up to a millisecond later.
    public func nanoseconds(until later: Instant) -> Int64 {
        later.nanoseconds > nanoseconds ? Int64(clamping: later.nanoseconds - nanoseconds) : 0
    }

    /// Milliseconds from `self` until `later` (0 when `later` is not later).
    public func milliseconds(until later: Instant) -> Int {
        later.nanoseconds > nanoseconds ? Int((later.nanoseconds - nanoseconds + 999_999) / 1_000_000) : 0
    }
}
