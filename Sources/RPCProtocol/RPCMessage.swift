// Classifies one incoming JSON value as a JSON-RPC 2.0 request, notification, or invalid
// message. Batches are split by the caller (the server), which answers each element.
import ReproJSON

/// A request id, kept as the exact JSON value the client sent so that it is echoed unchanged
/// (a string, an integer, a real, or null).
public struct RPCID: Hashable, Sendable, CustomStringConvertible {
    public let json: JSONValue
    public init(_ json: JSONValue) { self.json = json }

    public static func == (a: RPCID, b: RPCID) -> Bool { a.json == b.json }

    public func hash(into h: inout Hasher) {
        switch json {
        case .string(let s): h.combine(0); h.combine(s)
        case .int(let i): h.combine(1); h.combine(i)
        case .double(let d): h.combine(2); h.combine(d)
        default: h.combine(3)
        }
    }

    public var description: String { (try? json.serializedString()) ?? "?" }
}

/// One incoming message after envelope validation.
public enum RPCMessage: Sendable {
    case request(id: RPCID, method: String, params: JSONValue?)
    case notification(method: String, params: JSONValue?)
    /// A response from the client: reprolm sends no requests, so these are logged and dropped.
    case response(id: RPCID)
    /// Not a valid message. `id` is the request's id when it could be read, otherwise null.
    case invalid(id: RPCID, error: RPCError)

    /// Validates the envelope of one (non-batch) message.
    public init(_ value: JSONValue) {
        guard case .object(let o) = value else {
            self = .invalid(id: RPCID(.null), error: .invalidRequest("a message must be an object, not \(value.typeName)"))
            return
        }
        // The id decides whether an error can be addressed to the request, so read it first.
        let rawID = o["id"]
        var id = RPCID(.null)
        if let rawID {
            switch rawID {
            case .string, .int, .double, .null: id = RPCID(rawID)
            default:
                self = .invalid(id: RPCID(.null), error: .invalidRequest("id must be a string, a number or null, not \(rawID.typeName)"))
                return
            }
        }
        guard o["jsonrpc"] == .string("2.0") else {
            self = .invalid(id: id, error: .invalidRequest("\"jsonrpc\" must be exactly \"2.0\""))
            return
        }
        guard let methodValue = o["method"] else {
            if rawID != nil, o["result"] != nil || o["error"] != nil {
                self = .response(id: id)
            } else {
                self = .invalid(id: id, error: .invalidRequest("\"method\" is missing"))
            }
            return
        }
        guard case .string(let method) = methodValue else {
            self = .invalid(id: id, error: .invalidRequest("\"method\" must be a string, not \(methodValue.typeName)"))
            return
        }
        var params = o["params"]
        switch params {
        // Both mean "no params", for every method: pygls sends `null` with shutdown and exit, and
        // Neovim (like other Lua encoders) writes an empty table as `[]`.
        case .null?: params = nil
        case .array(let a)? where a.isEmpty: params = nil
        case nil, .array?, .object?: break
        case let p?:
            self = .invalid(id: id, error: .invalidRequest("\"params\" must be an object or an array, not \(p.typeName)"))
            return
        }
        self = rawID == nil ? .notification(method: method, params: params) : .request(id: id, method: method, params: params)
    }
}

/// Builders for the messages reprolm sends.
public enum RPCOutgoing {
    public static func result(id: RPCID, _ result: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "id": id.json, "result": result]
    }

    public static func error(id: RPCID, _ error: RPCError) -> JSONValue {
        ["jsonrpc": "2.0", "id": id.json, "error": error.json]
    }

    public static func notification(method: String, _ params: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "method": .string(method), "params": params]
    }
}
