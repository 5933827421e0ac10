// A model held warm: its mapped file, its tokenizer, and the identity receipts refer to.
import ModelFiles
import Models
import Tokenizers

/// One loaded model. Immutable and shared by every request that uses it; unloading only drops
/// the registry's reference, so requests already running on it finish normally.
public final class LoadedModel: @unchecked Sendable {
    /// The catalogue name when the file is a catalogue model, else the file name without `.gguf`.
    public let name: String
    public let path: String
    public let sha256: String
    public let file: GGUFFile
    public let tokenizer: Tokenizer
    /// Whether the file is byte-identical to a catalogue entry.
    public let catalogued: Bool
    /// The forward pass, for architectures that have one (nil: tokenize and detokenize only).
    public let decoder: DecoderModel?
    /// Why `decoder` is nil.
    public let decoderUnavailable: String?

    init(name: String, path: String, sha256: String, file: GGUFFile, tokenizer: Tokenizer, catalogued: Bool,
         decoder: DecoderModel?, decoderUnavailable: String?) {
        self.name = name
        self.path = path
        self.sha256 = sha256
        self.file = file
        self.tokenizer = tokenizer
        self.catalogued = catalogued
        self.decoder = decoder
        self.decoderUnavailable = decoderUnavailable
    }

    public var architecture: String? { file.architecture }

    /// `<arch>.context_length` from the file's metadata.
    public var contextLength: Int? {
        guard let arch = file.architecture else { return nil }
        return try? file.metadata.int("\(arch).context_length")
    }
}
