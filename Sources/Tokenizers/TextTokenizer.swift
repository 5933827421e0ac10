// What every model's tokenizer offers the server, whatever its kind (GGUF BPE/SentencePiece, or a
// Hugging Face WordPiece): text to ids, ids to text, one token's bytes. Generation needs more (the
// end-of-generation tokens, streaming pieces) and uses the GGUF `Tokenizer` itself.

public protocol TextTokenizer: AnyObject, Sendable {
    var vocabularySize: Int { get }
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32]
    /// A token's bytes (nil outside the vocabulary).
    func piece(_ token: Int32) -> [UInt8]?
    func decode(_ tokens: [Int32], skipSpecial: Bool) -> String
}

extension Tokenizer: TextTokenizer {}
