// `models/list`, `models/load`, `models/unload`.
import ReproJSON

/// `models/list` takes no parameters and returns `{models: [ModelInfo], engine: EngineInfo}`.
public struct ModelsListParams: Sendable {
    public static let method = "models/list"
    public init(_ params: JSONValue?) throws {
        try JSONObjectReader(params, path: "params").finish()
    }
    public static func result(_ models: [ModelInfo], engine: EngineInfo) -> JSONValue {
        ["models": .array(models.map(\.json)), "engine": engine.json]
    }
}

/// `models/load {model, alias?}`: `model` is a catalogue name, an alias, or a path to a GGUF file.
public struct ModelsLoadParams: Sendable {
    public static let method = "models/load"
    public let model: String
    public let alias: String?
    /// Seconds the model stays loaded once idle (KeepAlive.swift); absent: until unloaded.
    public let keepAlive: Double?

    public init(_ params: JSONValue?) throws {
        var r = try JSONObjectReader(params, path: "params")
        model = try r.modelName("model")
        alias = try r.optionalModelName("alias", maxBytes: 256)
        keepAlive = try KeepAlive.read(&r, path: "params")
        if let alias, alias.isEmpty { throw JSONFieldError(path: "params.alias", message: "must not be empty") }
        if model.isEmpty { throw JSONFieldError(path: "params.model", message: "must not be empty") }
        try r.finish()
    }
}

/// `models/unload {model}`: frees a loaded model; requests already running on it finish first.
public struct ModelsUnloadParams: Sendable {
    public static let method = "models/unload"
    public let model: String

    public init(_ params: JSONValue?) throws {
        var r = try JSONObjectReader(params, path: "params")
        model = try r.modelName("model")
        try r.finish()
    }
}
