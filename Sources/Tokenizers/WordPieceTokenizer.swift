// A BERT WordPiece tokenizer built from a Hugging Face tokenizer.json, encoding and decoding
// exactly as `tokenizers` 0.23.3 does for the same file. Stages, one file each: added-token
// extraction (AddedTokenSplitter.swift), normalizer (BertNormalizer.swift, with the character
// classes of BertCharacterClass.swift), pre-tokenizer (BertPreTokenizer.swift), model
// (WordPieceModel.swift), post-processor ([CLS] ... [SEP], read in WordPieceFile.swift) and
// decoder (WordPieceDecoder.swift). Provenance: huggingface/tokenizers, tokenizers/src/
// normalizers/bert.rs, pre_tokenizers/bert.rs, models/wordpiece, decoders/wordpiece.rs.

/// A BERT-style WordPiece tokenizer (all-MiniLM-L6-v2 and other sentence-transformers encoders).
/// Immutable after construction, so one instance can serve any number of threads.
public final class WordPieceTokenizer: Sendable {
    /// The ids of one text and whether tokens were cut off to fit the maximum length.
    public struct Encoding: Sendable, Equatable {
        public let ids: [Int32]
        public let truncated: Bool

        public init(ids: [Int32], truncated: Bool) {
            self.ids = ids
            self.truncated = truncated
        }
    }

    public let clsID: Int32
    public let sepID: Int32
    /// The padding section's token, else [PAD]; encode never pads, batching callers do.
    public let padID: Int32
    public let unkID: Int32
    /// Most ids `encode` returns, special tokens included.
    public let maxLength: Int

    private let texts: TokenTextTable
    private let normalizer: BertNormalizer
    private let model: WordPieceModel
    private let decoder: WordPieceDecoder
    private let splitter: AddedTokenSplitter
    /// Added tokens marked special, which `decode` leaves out by default.
    private let special: Set<Int32>

    /// Reads `path` (a tokenizer.json). `maxLength` is the model's limit in tokens, [CLS] and [SEP]
    /// included: 512 for BERT (max_position_embeddings, or model_max_length in
    /// tokenizer_config.json). The file's own truncation and padding sections are not used.
    public init(tokenizerJSON path: String, maxLength: Int) throws {
        let file = try WordPieceFile.read(path)
        guard maxLength > 2 else { throw WordPieceError.maxLengthTooSmall(maxLength: maxLength, specialTokens: 2) }
        self.maxLength = maxLength
        clsID = file.cls
        sepID = file.sep
        padID = file.pad
        unkID = file.model.unknown
        texts = file.model.vocabulary
        normalizer = file.normalizer
        model = file.model
        decoder = file.decoder
        splitter = AddedTokenSplitter(tokens: file.addedTokens.map { ($0.content, $0.id) })
        special = Set(file.addedTokens.filter(\.special).map(\.id))
    }

    /// Number of token ids.
    public var vocabularySize: Int { texts.count }

    /// The vocabulary text of a token ("hello", "##ing", "[CLS]"), or nil outside the vocabulary.
    public func token(_ id: Int32) -> String? {
        guard id >= 0, Int(id) < texts.count else { return nil }
        return String(decoding: texts.text(Int(id)), as: UTF8.self)
    }

    /// Encodes one text: [CLS] ids [SEP] with `addSpecial`, the bare ids without. Ids past
    /// `maxLength` (counting [CLS] and [SEP]) are dropped from the end and `truncated` says so,
    /// as HF's truncation to max_length does.
    public func encode(_ text: String, addSpecial: Bool = true) -> Encoding {
        let limit = addSpecial ? maxLength - 2 : maxLength
        let bytes = Array(text.utf8)
        var ids: [Int32] = []
        for piece in splitter.split(bytes) where ids.count <= limit {
            switch piece {
            case .token(let id):
                ids.append(id)
            case .text(let range):
                encodeText(bytes[range], into: &ids, stoppingAfter: limit)
            }
        }
        let truncated = ids.count > limit
        if truncated { ids.removeSubrange(limit...) }
        if addSpecial { ids = [clsID] + ids + [sepID] }
        return Encoding(ids: ids, truncated: truncated)
    }

    /// Normalizes, pre-tokenizes and WordPiece-encodes raw text. Words stop being encoded once
    /// more than `limit` ids are out: the rest would be cut off anyway.
    private func encodeText(_ bytes: ArraySlice<UInt8>, into ids: inout [Int32], stoppingAfter limit: Int) {
        let normalized = normalizer.normalize(Array(String(decoding: bytes, as: UTF8.self).unicodeScalars))
        for word in BertPreTokenizer.words(normalized) {
            model.encode(normalized[word], into: &ids)
            if ids.count > limit { return }
        }
    }

    /// Decodes ids as HF's `decode` does: tokens joined by the WordPiece decoder, with its cleanup
    /// when the file asks for it. `skipSpecial` (HF's default) leaves out the added tokens marked
    /// special ([CLS], [SEP], [PAD], [MASK] and [UNK] in BERT); ids outside the vocabulary are
    /// left out.
    public func decode(_ ids: [Int32], skipSpecial: Bool = true) -> String {
        var pieces: [ArraySlice<UInt8>] = []
        pieces.reserveCapacity(ids.count)
        for id in ids where id >= 0 && Int(id) < texts.count && !(skipSpecial && special.contains(id)) {
            pieces.append(texts.text(Int(id)))
        }
        return decoder.decode(pieces)
    }
}
