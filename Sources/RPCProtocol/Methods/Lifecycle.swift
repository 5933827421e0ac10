// `shutdown`, `exit`, `$/cancelRequest`, and the `$/progress` notification.
import ReproJSON

/// `shutdown`: stop accepting new work, finish what is in flight, answer null.
public enum ShutdownParams {
    public static let method = "shutdown"
}

/// `exit` (notification): end the process (0 after shutdown, 1 without, as LSP does).
public enum ExitParams {
    public static let method = "exit"
}

/// `$/cancelRequest {id}` (notification): cancel a request of the same connection.
public struct CancelRequestParams: Sendable {
    public static let method = "$/cancelRequest"
    public let id: RPCID

    public init(_ params: JSONValue?) throws {
        var r = try JSONObjectReader(params, path: "params")
        guard let v = r.value("id") else { throw JSONFieldError(path: "params.id", message: "is required") }
        switch v {
        case .string, .int, .double: id = RPCID(v)
        default: throw JSONFieldError(path: "params.id", message: "must be a string or a number, not \(v.typeName)")
        }
        try r.finish()
    }
}

/// `$/progress` (server → client notification) while a model file is hashed or loaded.
public struct ProgressNotification: Sendable {
    public static let method = "$/progress"
    /// The id of the request this progress belongs to.
    public var requestID: RPCID
    public var stage: String
    public var message: String
    public var done: Int
    public var total: Int

    public init(requestID: RPCID, stage: String, message: String, done: Int, total: Int) {
        self.requestID = requestID
        self.stage = stage
        self.message = message
        self.done = done
        self.total = total
    }

    public var json: JSONValue {
        RPCOutgoing.notification(method: Self.method, [
            "requestId": requestID.json, "stage": .string(stage), "message": .string(message),
            "done": JSONValue(done), "total": JSONValue(total),
        ])
    }
}
