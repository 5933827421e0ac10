// What every model's tokenizer offers the server, whatever its kind (GGUF BPE/SentencePiece, or a
// Hugging Face WordPiece or byte-level BPE): text to ids, ids to text, one token's bytes.
// Generation needs more (the end-of-generation tokens, streaming pieces) and uses the GGUF
// `Tokenizer` itself.

public protocol TextTokenizer: AnyObject, Sendable {
    var vocabularySize: Int { get }
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32]
    /// A token's bytes (nil outside the vocabulary).
    func piece(_ token: Int32) -> [UInt8]?
    func decode(_ tokens: [Int32], skipSpecial: Bool) -> String
}

extension Tokenizer: TextTokenizer {}

/// A Hugging Face byte-level BPE tokenizer (Whisper's) as HF encodes and decodes; `addSpecial`
/// adds its post-processor's tokens.
extension ByteLevelBPETokenizer: TextTokenizer {}

/// A WordPiece model's `tokenize` is its `encode` (always cut at its maxLength: the encoder cannot
/// take more); special-token text in the input is always recognised, as Hugging Face does.
extension WordPieceTokenizer: TextTokenizer {
    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        encode(text, addSpecial: addSpecial).ids
    }

    public func piece(_ token: Int32) -> [UInt8]? {
        self.token(token).map { Array($0.utf8) }
    }
}
