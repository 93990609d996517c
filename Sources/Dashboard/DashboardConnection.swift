/// One client connection's state in the server's loop.
final class DashboardConnection {
    let fd: Int32
    var input: [UInt8] = []
    var output: [UInt8] = []
    var outputOffset = 0
    /// The whole next request must have arrived by then (monotonic ns); nil for a stream.
    var requestDeadline: UInt64?
    /// A Server-Sent Events stream: only pushes from now on.
    var isStream = false
    /// For an agent-log stream (`/api/log/…`): where it is in the file.
    var logTail: AgentLogStreams.Tail?
    /// A control message waiting for the daemon's answer.
    var pendingControl: (id: String, deadline: UInt64, keepAlive: Bool)?
    /// Close once the output is written (after an error or `Connection: close`).
    var closeAfterOutput = false
    /// Output written, write side shut: discard what the client still sends until EOF or then.
    var lingerUntil: UInt64?

    init(fd: Int32, deadline: UInt64) {
        self.fd = fd
        requestDeadline = deadline
    }

    var hasOutput: Bool { outputOffset < output.count }

    func send(_ bytes: [UInt8]) {
        if outputOffset > 0 && outputOffset == output.count { output.removeAll(keepingCapacity: true); outputOffset = 0 }
        output += bytes
    }

    /// Bytes queued but not yet written.
    var backlog: Int { output.count - outputOffset }
}
