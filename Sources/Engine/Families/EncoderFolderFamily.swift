// Hugging Face encoder folders (BERT: config.json, model.safetensors, tokenizer.json and the
// sentence-transformers files). The identity is the sha256 of model.safetensors: the receipts'
// token ids make the tokenizer's files part of the request, not of the model.
import Foundation
import ModelFiles
import Models
import Tokenizers

/// An encoder folder: the encoder, its tokenizer, and the defaults its sentence-transformers
/// configuration gives.
public struct EncoderModel: @unchecked Sendable {
    public let bert: BertModel
    public let tokenizer: WordPieceTokenizer
    public let pooling: Pooling
    public let normalize: Bool
    /// The longest input (sentence-transformers' max_seq_length, else the position limit).
    public let maxTokens: Int
}

enum EncoderFolderFamily {
    static let family = ModelFamily(
        name: "encoder folder",
        weightsFile: { path, isFolder in
            let weights = path + "/model.safetensors"
            return isFolder && FileManager.default.fileExists(atPath: weights) ? weights : nil
        },
        nameFromPath: ModelFamilies.folderName,
        map: { try SafetensorsFile.map(path: $0) },
        build: build)

    static func build(_ input: FamilyInput) throws -> ModelContent {
        let path = input.path
        let config = try BertConfig.load(path: path + "/config.json")
        let bert = try BertModel(file: try SafetensorsFile(source: input.weights), config: config)
        let pooling = try PoolingConfig.load(folder: path)
        let maxTokens = min(config.maxPositions, pooling.maxSequenceLength ?? config.maxPositions)
        let tokenizer = try WordPieceTokenizer(tokenizerJSON: path + "/tokenizer.json", maxLength: maxTokens)
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw ModelError.badHyperparameter("tokenizer.json has \(tokenizer.vocabularySize) tokens, the model \(config.vocabSize)")
        }
        return .encoder(EncoderModel(bert: bert, tokenizer: tokenizer, pooling: pooling.pooling, normalize: pooling.normalize,
                                     maxTokens: maxTokens))
    }
}
