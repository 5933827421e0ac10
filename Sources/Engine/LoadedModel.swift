// A model held warm: its mapped file(s), its tokenizer, and the identity receipts refer to. GGUF
// files hold decoders (generation, score, encode from hidden states); Hugging Face folders hold
// encoders (BERT: encode).
import ChatTemplates
import Foundation
import Grammar
import ModelFiles
import Models
import Tokenizers

/// A GGUF model's file and its own tokenizer (generation needs the concrete tokenizer: its
/// end-of-generation tokens and streaming pieces).
public struct GGUFModel: @unchecked Sendable {
    public let file: GGUFFile
    public let tokenizer: Tokenizer
}

/// A Hugging Face encoder folder: the encoder, its tokenizer, and the defaults its
/// sentence-transformers configuration gives.
public struct EncoderModel: @unchecked Sendable {
    public let bert: BertModel
    public let tokenizer: WordPieceTokenizer
    public let pooling: Pooling
    public let normalize: Bool
    /// The longest input (sentence-transformers' max_seq_length, else the position limit).
    public let maxTokens: Int
}

/// One loaded model. Immutable and shared by every request that uses it; unloading only drops
/// the registry's reference, so requests already running on it finish normally.
public final class LoadedModel: @unchecked Sendable {
    /// The catalogue name when the file is a catalogue model, else the file name without `.gguf`.
    public let name: String
    public let path: String
    /// The model file's sha256 (for a folder: its model.safetensors).
    public let sha256: String
    /// Text to ids and back, for every kind of model.
    public let tokenizer: any TextTokenizer
    /// Whether the file is byte-identical to a catalogue entry.
    public let catalogued: Bool
    /// GGUF models.
    public let gguf: GGUFModel?
    /// The forward pass, for GGUF architectures that have one (nil: tokenize and detokenize only).
    public let decoder: DecoderModel?
    /// Why `decoder` is nil.
    public let decoderUnavailable: String?
    /// The KV caches of finished requests, reused by requests that start with the same tokens
    /// (decoders only).
    public let prefixCache: PrefixCache?
    /// Encoder folders.
    public let encoder: EncoderModel?
    /// Bytes a memory budget charges for the weights: the model file's size (tiling repacks the
    /// weights into about as many bytes, and the mapped file's pages are given back).
    public let residentBytes: Int
    /// Requests holding it, last use and keep-alive (ModelRegistry+Residency.swift).
    let usage = ModelUsage()
    /// The GGUF's `tokenizer.chat_template`, parsed at load (nil: the file has none; a failure
    /// is kept and reported to `generate {messages}`, it does not stop the model loading).
    public let chatTemplate: Result<ChatTemplate, Error>?
    /// The token pieces a grammar constraint matches, built at the first constrained request.
    private var constraintPieces: ConstraintVocabulary?
    private let constraintLock = NSLock()

    /// The vocabulary as a grammar constraint sees it (GGUF models only).
    public var constraintVocabulary: ConstraintVocabulary? {
        guard let tokenizer = gguf?.tokenizer else { return nil }
        constraintLock.lock()
        defer { constraintLock.unlock() }
        if let constraintPieces { return constraintPieces }
        let pieces = (0..<Int32(tokenizer.vocabularySize)).map { t -> [UInt8]? in
            tokenizer.standsForText(t) ? tokenizer.piece(t) : nil
        }
        let built = ConstraintVocabulary(pieces: pieces, endTokens: Set(tokenizer.endOfGenerationTokens))
        constraintPieces = built
        return built
    }

    init(name: String, path: String, sha256: String, gguf: GGUFModel, catalogued: Bool,
         decoder: DecoderModel?, decoderUnavailable: String?, prefixCacheBytes: Int) {
        self.name = name
        self.path = path
        self.sha256 = sha256
        self.tokenizer = gguf.tokenizer
        self.gguf = gguf
        self.catalogued = catalogued
        self.decoder = decoder
        self.decoderUnavailable = decoderUnavailable
        self.prefixCache = decoder == nil ? nil : PrefixCache(budgetBytes: prefixCacheBytes)
        self.encoder = nil
        self.residentBytes = gguf.file.fileSize
        let source = try? gguf.file.metadata.string("tokenizer.chat_template")
        chatTemplate = source.map { s in Result { try ChatTemplate(source: s) } }
    }

    init(name: String, path: String, sha256: String, encoder: EncoderModel, catalogued: Bool) {
        self.name = name
        self.path = path
        self.sha256 = sha256
        self.tokenizer = encoder.tokenizer
        self.gguf = nil
        self.catalogued = catalogued
        self.decoder = nil
        self.decoderUnavailable = "\(name) is an encoder: it encodes, it does not generate or score"
        self.prefixCache = nil
        self.encoder = encoder
        self.residentBytes = encoder.bert.file.fileSize
        chatTemplate = nil
    }

    /// The weights file (GGUF, or a folder's model.safetensors): its bytes, how they are held,
    /// and the version of the file they were taken from.
    public var weightsFile: MappedFile {
        if let gguf { return gguf.file.source }
        return encoder!.bert.file.source
    }

    /// Whether the weights' path no longer names the file version the model was loaded from.
    var fileChanged: Bool {
        FileIdentity(path: weightsFile.path) != weightsFile.identity
    }

    public var architecture: String? {
        if let gguf { return gguf.file.architecture }
        return encoder.map { _ in "bert" }
    }

    /// The longest input: `<arch>.context_length` of a GGUF file; an encoder's maxTokens.
    public var contextLength: Int? {
        if let encoder { return encoder.maxTokens }
        // A decoder's value was checked against its bounds at load; a file without one only reports it.
        if let decoder { return decoder.config.contextLength }
        guard let file = gguf?.file, let arch = file.architecture else { return nil }
        return try? file.metadata.int("\(arch).context_length")
    }
}
