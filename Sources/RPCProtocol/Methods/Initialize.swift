// `initialize`: optional handshake. One-shot scripts may call any method without it.
import ReproJSON

/// `initialize` params. LSP-style clients send many more fields (processId, capabilities...):
/// they are accepted and ignored, since the handshake carries nothing reprolm acts on.
public struct InitializeParams: Sendable {
    public static let method = "initialize"
    public let clientName: String?

    public init(_ params: JSONValue?) throws {
        let r = try JSONObjectReader(params, path: "params")
        if case .object(let info)? = r.object["clientInfo"], case .string(let name)? = info["name"] {
            clientName = name
        } else {
            clientName = nil
        }
    }
}

/// `initialize` result: who we are, what we can do, what is loaded.
public struct InitializeResult: Sendable {
    public var serverVersion: String
    public var engineVersion: String
    public var methods: [String]
    public var models: [ModelInfo]

    public init(serverVersion: String, engineVersion: String, methods: [String], models: [ModelInfo]) {
        self.serverVersion = serverVersion
        self.engineVersion = engineVersion
        self.methods = methods
        self.models = models
    }

    public var json: JSONValue {
        [
            "serverInfo": ["name": "reprolm", "version": .string(serverVersion)],
            "engine": ["version": .string(engineVersion)],
            "capabilities": [
                "methods": .array(methods.map { .string($0) }),
                "framings": ["content-length", "newline"],
                "batches": true,
                "cancellation": true,
            ],
            "models": .array(models.map(\.json)),
        ]
    }
}
