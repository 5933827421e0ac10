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
    public var engine: EngineInfo
    public var methods: [String]
    public var models: [ModelInfo]

    public init(serverVersion: String, engine: EngineInfo, methods: [String], models: [ModelInfo]) {
        self.serverVersion = serverVersion
        self.engine = engine
        self.methods = methods
        self.models = models
    }

    public var json: JSONValue {
        [
            "serverInfo": ["name": "reprolm", "version": .string(serverVersion)],
            "engine": engine.json,
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

/// The engine as `initialize` and `models/list` report it: its version, the kernel set computing
/// the quantized products (as receipts name it, "x86_64-avx2"), and the sets this CPU can run
/// (`reprolm serve --kernels`). Every set gives the same bits; the set only moves speed.
public struct EngineInfo: Sendable, Equatable {
    public var version: String
    public var kernels: String
    public var kernelSets: [String]

    public init(version: String, kernels: String, kernelSets: [String]) {
        self.version = version
        self.kernels = kernels
        self.kernelSets = kernelSets
    }

    public var json: JSONValue {
        ["version": .string(version), "kernels": .string(kernels), "kernelSets": .array(kernelSets.map { .string($0) })]
    }
}
