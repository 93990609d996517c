/// The dashboard's session token: 128 random bits as 32 lowercase hex digits, compared in
/// constant time. It arrives as the `aw_token` cookie (set from the printed URL's `?token=`),
/// or as `Authorization: Bearer <token>`.
public enum DashboardToken {
    public static let cookieName = "aw_token"

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }

    /// Equal in time that depends only on the lengths.
    public static func matches(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<b.count { diff |= (i < a.count ? a[i] : 0) ^ b[i] }
        return diff == 0 && !b.isEmpty
    }

    /// The token a request carries, from its cookie or its `Authorization` header.
    public static func presented(by request: HTTPRequest) -> String? {
        if let auth = request.header("authorization"), auth.hasPrefix("Bearer ") { return String(auth.dropFirst(7)) }
        guard let cookies = request.header("cookie") else { return nil }
        for part in cookies.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces }
            if kv.count == 2, kv[0] == cookieName { return kv[1] }
        }
        return nil
    }

    public static func setCookie(_ token: String) -> HTTPRequest.Header {
        .init("Set-Cookie", "\(cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict")
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
