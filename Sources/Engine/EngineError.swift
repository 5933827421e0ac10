// Errors of the engine, each mapped to one JSON-RPC error by the server.

/// Why the engine could not do what was asked.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// No loaded model has this name or alias.
    case modelNotLoaded(name: String, loaded: [String])
    /// The name is neither a catalogue name nor an existing file.
    case modelNotFound(name: String, catalogue: [String])
    /// A request named no model and none is loaded.
    case noModelLoaded
    /// The file exists but could not be loaded (corrupt, unsupported, ...).
    case loadFailed(model: String, reason: String)
    /// The alias already names a different model.
    case aliasTaken(alias: String, model: String)

    public var description: String {
        switch self {
        case let .modelNotLoaded(name, loaded):
            let list = loaded.isEmpty ? "none is loaded" : "loaded: \(loaded.joined(separator: ", "))"
            return "model '\(name)' is not loaded (\(list)); load it with models/load"
        case let .modelNotFound(name, catalogue):
            return "no model '\(name)': not a file, and not in the catalogue (\(catalogue.joined(separator: ", ")))"
        case .noModelLoaded:
            return "no model is loaded; load one with models/load"
        case let .loadFailed(model, reason):
            return "model '\(model)' failed to load: \(reason)"
        case let .aliasTaken(alias, model):
            return alias == model ? "'\(alias)' already names a model" : "'\(alias)' already names model '\(model)'"
        }
    }
}
