// What a method handler may use besides its params: the daemon, its connection (for
// notifications and session state) and its request id.
import Engine
import Receipts
import ReproJSON
import RPCProtocol

/// Passed to every request handler.
public struct RequestContext: Sendable {
    public let daemon: Daemon
    public let connection: ServerConnection
    public let id: RPCID
    /// The request came as a notification: its result is discarded and it reports no progress.
    public let isNotification: Bool
    /// The derived session seed this request took on arrival (a `generate` without `seed`, in a
    /// session with a seed set).
    public var sessionSeed: SeedUse? = nil

    /// Sends a notification to this request's client (progress, streamed tokens).
    public func notify(_ message: JSONValue) {
        connection.send(message)
    }

    public func progress(_ p: LoadProgress) {
        guard !isNotification else { return }
        notify(ProgressNotification(requestID: id, stage: p.stage, message: p.message, done: p.done, total: p.total).json)
    }
}
