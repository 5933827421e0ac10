// GGUF files: decoders whose architecture has a forward pass (Models/Architectures.swift), and any
// other GGUF file for tokenize and detokenize only.
import Foundation
import ModelFiles
import Models
import Tokenizers

/// A GGUF model's file, its own tokenizer (generation needs the concrete tokenizer: its
/// end-of-generation tokens and streaming pieces) and its forward pass if it has one.
public struct GGUFModel: @unchecked Sendable {
    public let file: GGUFFile
    public let tokenizer: Tokenizer
    /// The forward pass (nil: the architecture has none; tokenize and detokenize only).
    public let decoder: DecoderModel?
    /// Why `decoder` is nil.
    public let decoderUnavailable: String?
}

enum GGUFFamily {
    static let family = ModelFamily(
        name: "GGUF decoder",
        weightsFile: { path, isFolder in isFolder ? nil : path },
        nameFromPath: { path in
            let base = (path as NSString).lastPathComponent
            return base.hasSuffix(".gguf") ? String(base.dropLast(5)) : base
        },
        map: { try GGUFFile.map(path: $0) },
        build: build)

    static func build(_ input: FamilyInput) throws -> ModelContent {
        let file = try GGUFFile(source: input.weights)
        let tokenizer = try Tokenizer.fromGGUF(file.metadata)
        // A supported architecture must build (a corrupt file is refused here, not mid-request);
        // another one still loads, for tokenize and detokenize.
        guard Architectures.supported.contains(file.architecture ?? "") else {
            let why = "architecture '\(file.architecture ?? "(none)")' has no forward pass (supported: \(Architectures.supported.joined(separator: ", ")))"
            return .gguf(GGUFModel(file: file, tokenizer: tokenizer, decoder: nil, decoderUnavailable: why))
        }
        let model = try DecoderModel(file: file)
        // Every id the tokenizer can produce must have an embedding row.
        guard tokenizer.vocabularySize <= model.config.vocabulary else {
            throw ModelError.badHyperparameter("tokenizer.ggml.tokens has \(tokenizer.vocabularySize) tokens, more than the \(model.config.vocabulary) rows of tensor 'token_embd.weight'")
        }
        return .gguf(GGUFModel(file: file, tokenizer: tokenizer, decoder: model, decoderUnavailable: nil))
    }
}
