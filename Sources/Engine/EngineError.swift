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
    /// The model is loaded but cannot run (its architecture has no forward pass here).
    case cannotRun(model: String, reason: String)
    /// A speech request named a language the model does not know.
    case unknownLanguage(String, known: [String])
    /// Nothing to run: the prompt (or text) has no tokens.
    case emptyPrompt
    /// The prompt plus the tokens to generate do not fit the model's context.
    case contextOverflow(promptTokens: Int, maxTokens: Int, contextLength: Int)
    /// A token id given by the client is outside the vocabulary.
    case tokenOutOfRange(index: Int, token: Int32, vocabulary: Int)
    /// The model produced no finite logit (a broken model file).
    case nonFiniteLogits(model: String)
    /// Under a grammar constraint, no token of the vocabulary may come next (the grammar asks
    /// for text the model's tokens cannot spell, or the model gives every allowed token -inf).
    case constraintDeadEnd(model: String, generated: Int)
    /// `--memory-budget`: what was asked (a model's weights, or a request's KV cache on top of
    /// its model's weights) can never fit the budget, whatever else is unloaded or finishes.
    case exceedsMemoryBudget(what: String, neededBytes: Int, budgetBytes: Int)
    /// `--memory-budget`: the room is held by models other waiting requests hold; retry.
    case memoryBudgetHeld(neededBytes: Int, chargedBytes: Int, budgetBytes: Int)

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
        case let .unknownLanguage(code, known):
            return "unknown language '\(code)' (the model knows \(known.joined(separator: ", ")))"
        case let .cannotRun(model, reason):
            return "model '\(model)' cannot run: \(reason)"
        case .emptyPrompt:
            return "the prompt is empty: there is no token to condition on"
        case let .contextOverflow(prompt, maxTokens, limit):
            return maxTokens > 0
                ? "\(prompt) prompt tokens + maxTokens \(maxTokens) = \(prompt + maxTokens) exceed the model's context of \(limit) tokens"
                : "\(prompt) tokens exceed the model's context of \(limit) tokens"
        case let .tokenOutOfRange(_, token, vocabulary):
            return "\(token) is not a token id of this model (vocabulary size \(vocabulary))"
        case let .nonFiniteLogits(model):
            return "model '\(model)' produced no finite logit; the model file is likely corrupt"
        case let .constraintDeadEnd(model, generated):
            return "after \(generated) tokens no token of model '\(model)' may continue the text under the grammar constraint"
        case let .memoryBudgetHeld(needed, charged, budget):
            return "no room for \(mib(needed)) of KV cache: \(mib(charged)) of the \(mib(budget)) memory budget is held by models other waiting requests hold; retry later"
        case let .exceedsMemoryBudget(what, needed, budget):
            return "\(what) needs \(mib(needed)) but the memory budget is \(mib(budget)) (--memory-budget): it can never fit"
        }
    }
}

/// Bytes as MiB with one decimal, for messages.
func mib(_ bytes: Int) -> String {
    let tenths = (bytes * 10 + (1 << 19)) >> 20
    return "\(tenths / 10).\(tenths % 10) MiB"
}
