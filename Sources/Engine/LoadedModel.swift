// A model held warm: what it is (its family's content: Families/), its tokenizer, and the
// identity receipts refer to. GGUF files hold decoders (generation, score, encode from hidden
// states); Hugging Face folders hold encoders (BERT: encode).
import ChatTemplates
import Foundation
import Grammar
import ModelFiles
import Models
import Tokenizers

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
    /// What the model is, by family.
    public let content: ModelContent
    /// The KV caches of finished requests, reused by requests that start with the same tokens
    /// (decoders only).
    public let prefixCache: PrefixCache?
    /// Bytes a memory budget charges for the weights: the model file's size (tiling repacks the
    /// weights into about as many bytes, and the mapped file's pages are given back); for a
    /// speech model, its owned weights exactly (WhisperModel.weightBytes).
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

    init(name: String, path: String, sha256: String, content: ModelContent, weights: MappedFile, catalogued: Bool,
         prefixCacheBytes: Int) {
        self.name = name
        self.path = path
        self.sha256 = sha256
        self.content = content
        self.weightsFile = weights
        self.catalogued = catalogued
        switch content {
        case .gguf(let g):
            tokenizer = g.tokenizer
            prefixCache = g.decoder == nil ? nil : PrefixCache(budgetBytes: prefixCacheBytes)
            let source = try? g.file.metadata.string("tokenizer.chat_template")
            chatTemplate = source.map { s in Result { try ChatTemplate(source: s) } }
            residentBytes = weights.bytes.count
        case .encoder(let e):
            tokenizer = e.tokenizer
            prefixCache = nil
            chatTemplate = nil
            residentBytes = weights.bytes.count
        case .speech(let s):
            tokenizer = s.tokenizer
            prefixCache = nil
            residentBytes = s.whisper.weightBytes
            chatTemplate = nil
        }
    }

    /// The GGUF model (nil for other families).
    public var gguf: GGUFModel? {
        if case .gguf(let g) = content { return g }
        return nil
    }

    /// The decoder's forward pass (GGUF files whose architecture has one).
    public var decoder: DecoderModel? { gguf?.decoder }

    /// The encoder folder's model.
    public var encoder: EncoderModel? {
        if case .encoder(let e) = content { return e }
        return nil
    }

    /// The speech folder's model.
    public var speech: SpeechModel? {
        if case .speech(let s) = content { return s }
        return nil
    }

    /// Why the model cannot generate or score text (nil: it can).
    public var decoderUnavailable: String? {
        switch content {
        case .gguf(let g): return g.decoderUnavailable
        case .encoder: return "\(name) is an encoder: it encodes, it does not generate or score"
        case .speech: return "\(name) is a speech model: it takes audio (generate transcribes it, score scores a transcript of it, encode embeds it)"
        }
    }

    /// The weights file (GGUF, or a folder's model.safetensors): its bytes, how they are held,
    /// and the version of the file they were taken from.
    public let weightsFile: MappedFile

    /// Whether the weights' path no longer names the file version the model was loaded from.
    var fileChanged: Bool {
        FileIdentity(path: weightsFile.path) != weightsFile.identity
    }

    public var architecture: String? {
        switch content {
        case .gguf(let g): return g.file.architecture
        case .encoder: return "bert"
        case .speech: return "whisper"
        }
    }

    /// The longest input: `<arch>.context_length` of a GGUF file; an encoder's maxTokens.
    public var contextLength: Int? {
        if let encoder { return encoder.maxTokens }
        if let speech { return speech.whisper.config.maxTargetPositions }
        // A decoder's value was checked against its bounds at load; a file without one only reports it.
        if let decoder { return decoder.config.contextLength }
        guard let file = gguf?.file, let arch = file.architecture else { return nil }
        return try? file.metadata.int("\(arch).context_length")
    }
}
