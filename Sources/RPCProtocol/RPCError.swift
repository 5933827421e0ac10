// JSON-RPC 2.0 error codes and the error object. protocol/openrpc.json documents the same table;
// keep the two in step.
import ReproJSON

/// The error codes reprolm answers with: JSON-RPC's standard ones, LSP's request-cancelled, and
/// reprolm's application range (-32001 ... -32099).
public enum RPCErrorCode: Int64, Sendable, CaseIterable {
    case parseError = -32700
    case invalidRequest = -32600
    case methodNotFound = -32601
    case invalidParams = -32602
    case internalError = -32603
    /// LSP's code for a request cancelled by `$/cancelRequest` or by shutdown.
    case requestCancelled = -32800
    case modelNotFound = -32001
    case modelLoadFailed = -32002
    case contextOverflow = -32003
    case overloaded = -32004
    case shuttingDown = -32005
    /// `reproduce`: the receipt's model (by sha256) is not the model loaded under its name.
    case modelMismatch = -32006
    /// `receipts/get`, `reproduce {id}`: no receipt with this id in the journal.
    case receiptNotFound = -32007
    /// `--memory-budget`: the model, or the request's KV cache with its model, can never fit.
    case exceedsMemoryBudget = -32008
}

/// A JSON-RPC error object: `{code, message, data?}`.
public struct RPCError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int64
    public let message: String
    public let data: JSONValue?

    public init(_ code: RPCErrorCode, _ message: String, data: JSONValue? = nil) {
        self.code = code.rawValue
        self.message = message
        self.data = data
    }

    public var description: String { "error \(code): \(message)" }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["code": .int(code), "message": .string(message)]
        if let data { o["data"] = data }
        return .object(o)
    }

    public static func parseError(_ detail: String) -> RPCError {
        RPCError(.parseError, "Parse error: \(detail)")
    }

    public static func invalidRequest(_ detail: String) -> RPCError {
        RPCError(.invalidRequest, "Invalid request: \(detail)")
    }

    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(.methodNotFound, "Method not found: \(method)", data: ["method": .string(method)])
    }

    /// -32602 with the offending parameter's path (`params.maxTokens`) in `data.path`.
    public static func invalidParams(path: String, _ message: String) -> RPCError {
        RPCError(.invalidParams, "Invalid params: \(path) \(message)", data: ["path": .string(path), "reason": .string(message)])
    }

    public static func invalidParams(_ error: JSONFieldError) -> RPCError {
        invalidParams(path: error.path, error.message)
    }

    /// Only for faults of the daemon itself, never for something the client sent.
    public static func internalError(_ detail: String) -> RPCError {
        RPCError(.internalError, "Internal error: \(detail)")
    }

    public static let cancelled = RPCError(.requestCancelled, "Request cancelled")
}
