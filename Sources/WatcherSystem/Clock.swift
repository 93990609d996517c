#if canImport(Glibc)
import Glibc
#endif

/// Clock reads and the one timestamp format of the event log:
/// `2026-11-21T08:00:00.123456Z` (UTC, always six fraction digits).
///
/// Importers that also see the standard library's `Clock` protocol may need to
/// write `WatcherSystem.Clock`.
public enum Clock {
    /// Nanoseconds on a clock that never jumps (not even when the wall clock is
    /// set); only differences are meaningful.
    ///
    /// The corresponding C function is `clock_gettime(CLOCK_MONOTONIC)`.
    public static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)  // cannot fail for this clock id
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// The wall clock: seconds and microseconds since 1970-01-01 UTC.
    ///
    /// The corresponding C function is `clock_gettime(CLOCK_REALTIME)`.
    public static func realtime() -> (seconds: Int, microseconds: Int) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)  // cannot fail for this clock id
        return (seconds: Int(now.tv_sec), microseconds: Int(now.tv_nsec) / 1000)
    }

    /// Formats a wall-clock time as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    ///
    /// The corresponding C function is `gmtime_r`.
    public static func iso8601(seconds: Int, microseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
            + "." + pad(microseconds, 6) + "Z"
    }

    /// The current wall-clock time, formatted by ``iso8601(seconds:microseconds:)``.
    public static func nowISO8601() -> String {
        let now = realtime()
        return iso8601(seconds: now.seconds, microseconds: now.microseconds)
    }

    /// Parses exactly the format ``iso8601(seconds:microseconds:)`` writes;
    /// anything else (other offsets, missing fraction, February 30) gives `nil`.
    ///
    /// The corresponding C function is `timegm`.
    public static func parseISO8601(_ text: String) -> (seconds: Int, microseconds: Int)? {
        let bytes = Array(text.utf8)
        guard bytes.count == 27 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "."), (26, "Z")]
        guard separators.allSatisfy({ bytes[$0.0] == $0.1.asciiValue! }),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              let micro = number(20..<26)
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int(timegm(&parts))
        // timegm normalises out-of-range fields (Feb 30 -> Mar 2): refuse those.
        guard iso8601(seconds: seconds, microseconds: micro) == text else { return nil }
        return (seconds: seconds, microseconds: micro)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
