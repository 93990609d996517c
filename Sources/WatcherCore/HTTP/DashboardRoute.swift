/// The dashboard's routing table: a method and a path to a route. Names taken from a URL
/// (runs, phases) must be plain names (``PlainName``) and batch numbers whole numbers ≥ 1;
/// no route maps a URL to a file path.
public enum DashboardRoute: Equatable, Sendable {
    case overview, messages, events
    case run(String)
    case timeline(String)
    case batch(BatchID)
    case asset(String)
    case apiStatus, apiEvents, apiMessages, apiStream, apiControl
    case apiBatch(BatchID)
    /// `/api/log/RUN/PHASE/K/N`: attempt N's agent log as a live stream.
    case apiLog(BatchID, attempt: Int)

    /// Asset names served from the binary.
    public static let assetNames: Set<String> = ["app.css", "app.js", "icon.svg"]

    public struct Failure: Error, Equatable, Sendable {
        public var status: Int
        public var message: String
        public init(_ status: Int, _ message: String) { self.status = status; self.message = message }
    }

    /// Whether the route changes state (POST only).
    public var isStateChanging: Bool { self == .apiControl }

    public static func resolve(method: String, path: String) -> Result<DashboardRoute, Failure> {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        let route: DashboardRoute
        let key = parts.count >= 2 && parts[0] == "api" ? "api/" + parts[1] : parts.first ?? ""
        let args = Array(parts.dropFirst(key.hasPrefix("api/") ? 2 : 1))
        switch (key, args.count) {
        case ("", 0): route = .overview
        case ("favicon.ico", 0): route = .asset("icon.svg")
        case ("messages", 0): route = .messages
        case ("events", 0): route = .events
        case ("run", 1): route = .run(args[0])
        case ("timeline", 1): route = .timeline(args[0])
        case ("batch", 3), ("api/batch", 3), ("api/log", 4):
            guard let k = wholeNumber(args[2]) else { return .failure(Failure(404, "the batch must be a whole number ≥ 1")) }
            let id = BatchID(run: args[0], phase: args[1], index: k)
            if key == "api/log" {
                guard let n = wholeNumber(args[3]) else { return .failure(Failure(404, "the attempt must be a whole number ≥ 1")) }
                route = .apiLog(id, attempt: n)
            } else {
                route = key == "api/batch" ? .apiBatch(id) : .batch(id)
            }
        case ("assets", 1):
            guard assetNames.contains(args[0]) else { return .failure(Failure(404, "no such asset")) }
            route = .asset(args[0])
        case ("api/status", 0): route = .apiStatus
        case ("api/events", 0): route = .apiEvents
        case ("api/messages", 0): route = .apiMessages
        case ("api/stream", 0): route = .apiStream
        case ("api/control", 0): route = .apiControl
        default: return .failure(Failure(404, "no page at this address"))
        }
        for name in route.names {
            if let why = PlainName.check(name) { return .failure(Failure(404, "the name in the address \(why)")) }
        }
        if route.isStateChanging {
            guard method == "POST" else { return .failure(Failure(405, "state changes are POST requests")) }
        } else {
            guard method == "GET" || method == "HEAD" else { return .failure(Failure(405, "this address only answers GET")) }
        }
        return .success(route)
    }

    /// A whole number ≥ 1 written without leading zeros or signs.
    static func wholeNumber(_ s: String) -> Int? {
        guard let k = Int(s), k >= 1, String(k) == s else { return nil }
        return k
    }

    var names: [String] {
        switch self {
        case .run(let r), .timeline(let r): [r]
        case .batch(let id), .apiBatch(let id), .apiLog(let id, _): [id.run, id.phase]
        default: []
        }
    }
}
