// The description of one model, as `models/list`, `models/load` and `initialize` report it.
import ReproJSON

/// What the daemon knows of a model: a catalogue entry, a loaded file, or both.
public struct ModelInfo: Sendable, Equatable {
    public struct QuantType: Sendable, Equatable {
        public var type: String
        public var tensors: Int
        public var bytes: Int
        public init(type: String, tensors: Int, bytes: Int) {
            self.type = type
            self.tensors = tensors
            self.bytes = bytes
        }
    }

    public var name: String
    public var aliases: [String]
    public var path: String?
    public var loaded: Bool
    public var isDefault: Bool
    public var architecture: String?
    public var parameterCount: Int?
    public var quantTypes: [QuantType]
    public var fileSize: Int?
    public var sha256: String?
    public var contextLength: Int?
    public var vocabularySize: Int?
    public var catalogued: Bool
    /// Loaded models: bytes charged for the weights, KV bytes (prefix cache and running requests'
    /// reservations), requests using it, last use and when it unloads if still idle (ISO 8601).
    public var residentBytes: Int? = nil
    public var kvBytes: Int? = nil
    public var activeRequests: Int? = nil
    public var lastUsed: String? = nil
    public var unloadsAt: String? = nil

    public init(name: String, aliases: [String] = [], path: String? = nil, loaded: Bool, isDefault: Bool = false,
                architecture: String? = nil, parameterCount: Int? = nil, quantTypes: [QuantType] = [],
                fileSize: Int? = nil, sha256: String? = nil, contextLength: Int? = nil,
                vocabularySize: Int? = nil, catalogued: Bool) {
        self.name = name
        self.aliases = aliases
        self.path = path
        self.loaded = loaded
        self.isDefault = isDefault
        self.architecture = architecture
        self.parameterCount = parameterCount
        self.quantTypes = quantTypes
        self.fileSize = fileSize
        self.sha256 = sha256
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.catalogued = catalogued
    }

    public var json: JSONValue {
        func opt(_ i: Int?) -> JSONValue { i.map { .int(Int64($0)) } ?? .null }
        func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        return [
            "name": .string(name),
            "aliases": .array(aliases.map { .string($0) }),
            "path": opt(path),
            "loaded": .bool(loaded),
            "default": .bool(isDefault),
            "catalogued": .bool(catalogued),
            "architecture": opt(architecture),
            "parameterCount": opt(parameterCount),
            "quantTypes": .array(quantTypes.map { ["type": .string($0.type), "tensors": JSONValue($0.tensors), "bytes": JSONValue($0.bytes)] }),
            "fileSize": opt(fileSize),
            "sha256": opt(sha256),
            "contextLength": opt(contextLength),
            "vocabularySize": opt(vocabularySize),
            "residentBytes": opt(residentBytes),
            "kvBytes": opt(kvBytes),
            "activeRequests": opt(activeRequests),
            "lastUsed": opt(lastUsed),
            "unloadsAt": opt(unloadsAt),
        ]
    }
}
