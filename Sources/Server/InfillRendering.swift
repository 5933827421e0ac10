// generate {prompt, suffix}: the text before and after the gap laid out with the model's
// fill-in-the-middle tokens exactly as llama-server's /infill lays it out
// (Sources/Tokenizers/Infill.swift has the layout and why).
import Engine
import ReproJSON
import RPCProtocol
import Tokenizers

enum InfillRendering {
    static func tokens(prefix: String, suffix: String, addSpecial: Bool, parseSpecial: Bool,
                       model: LoadedModel) throws -> [Int32] {
        // Generator(model:) has already refused a model without a forward pass.
        guard let tokenizer = model.gguf?.tokenizer, let decoder = model.decoder else {
            throw JSONFieldError(path: "params.model", message: "\(model.name) cannot generate")
        }
        let fim = tokenizer.fimTokens
        let missing = [("prefix", fim.prefix), ("suffix", fim.suffix), ("middle", fim.middle)]
            .filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty, let prompt = tokenizer.infillPrompt(
            prefix: prefix, suffix: suffix, contextLength: decoder.config.contextLength,
            addSpecial: addSpecial, parseSpecial: parseSpecial)
        else {
            let names = missing.count == 1 ? missing[0] : missing.dropLast().joined(separator: ", ") + " and " + missing.last!
            throw JSONFieldError(path: "params.suffix", message: "cannot be used with \(model.name): its vocabulary lacks the fill-in-the-middle \(names) \(missing.count == 1 ? "token" : "tokens")")
        }
        return prompt
    }
}
