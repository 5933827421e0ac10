// A byte-level BPE tokenizer built from a Hugging Face tokenizer.json (GPT-2's kind, as Whisper
// ships it), encoding and decoding exactly as `tokenizers` 0.23.3 does for the same file. Stages:
// added-token extraction (HFAddedTokens.swift), pre-tokenizer (HFByteLevelPreTokenization.swift,
// which runs the GGUF tokenizer's GPT-2 scanner), model (the GGUF tokenizer's BPEModel, over the
// merges ByteLevelBPEModelSection.swift resolves), post-processor (HFPostProcessor.swift) and
// decoder (HFByteLevelDecoder.swift). WhisperSpecialTokens.swift names Whisper's special tokens.

/// A Hugging Face byte-level BPE tokenizer. Immutable after construction, so one instance can
/// serve any number of threads.
public final class ByteLevelBPETokenizer: Sendable {
    /// The model's vocabulary (ids the BPE model produces).
    private let modelTexts: TokenTextTable
    /// Every id's text: the model's, then the added tokens past it.
    private let texts: TokenTextTable
    private let bpe: BPEModel
    private let ignoreMerges: Bool
    private let preTokenization: HFByteLevelPreTokenization
    private let matcher: HFAddedTokenMatcher
    private let postProcessor: HFPostProcessor
    /// Added tokens marked special: `decode` can leave them out, `encode` can leave them unparsed.
    private let special: Set<Int32>

    /// Merges restored by `restoringRankOrderedMerges` (RankOrderedMerges.swift), by the id they make.
    public let restoredMerges: [(left: Int32, right: Int32, merged: Int32)]

    /// Reads `path` (a tokenizer.json). Throws `ByteLevelBPEError` for a file that cannot be read,
    /// is inconsistent, or asks for anything not implemented. `restoringRankOrderedMerges`: put back
    /// the merges a vocabulary whose ids are BPE ranks implies but the file lacks (Whisper's: its
    /// own tokenizer, not `tokenizers` on the file; RankOrderedMerges.swift).
    public init(tokenizerJSON path: String, restoringRankOrderedMerges: Bool = false) throws {
        let file = try ByteLevelBPEFile.read(path)
        let modelTexts = file.model.texts
        self.modelTexts = modelTexts
        var all: [[UInt8]] = (0..<modelTexts.count).map { Array(modelTexts.text($0)) }
        // Added tokens past the vocabulary come in id order (HFAddedToken.readAll checks it).
        for token in file.addedTokens where Int(token.id) >= all.count { all.append(Array(token.content.utf8)) }
        texts = TokenTextTable(texts: all)
        restoredMerges = restoringRankOrderedMerges ? RankOrderedMerges.missing(from: file.model.merges, texts: modelTexts) : []
        bpe = BPEModel(rankedMerges: RankOrderedMerges.merged(file.model.merges, with: restoredMerges), texts: modelTexts)
        ignoreMerges = file.model.ignoreMerges
        preTokenization = file.preTokenization
        matcher = HFAddedTokenMatcher(tokens: file.addedTokens)
        postProcessor = file.postProcessor
        special = Set(file.addedTokens.filter(\.special).map(\.id))
    }

    /// Number of token ids, added tokens included (HF's get_vocab_size(with_added_tokens=True)).
    public var vocabularySize: Int { texts.count }

    /// Encodes text as HF's encode(text, add_special_tokens: addSpecial). Added tokens written in
    /// the text become those tokens; with `parseSpecial` false, special ones stay text (HF's
    /// encode_special_tokens). `addSpecial` puts the post-processor's tokens around the text
    /// (Whisper's: <|startoftranscript|> <|notimestamps|> ... <|endoftext|>).
    public func encode(_ text: String, addSpecial: Bool = false, parseSpecial: Bool = true) -> [Int32] {
        let bytes = Array(text.utf8)
        var ids: [Int32] = addSpecial ? postProcessor.prefix : []
        ids.reserveCapacity(ids.count + bytes.count / 3 + 4)
        for piece in matcher.split(bytes, parseSpecial: parseSpecial) {
            switch piece {
            case .token(let id):
                ids.append(id)
            case .text(let range):
                encodePiece(bytes[range], into: &ids)
            }
        }
        if addSpecial { ids += postProcessor.suffix }
        return ids
    }

    /// Pre-tokenizes one piece of text between added tokens and runs BPE on each word.
    private func encodePiece(_ piece: ArraySlice<UInt8>, into ids: inout [Int32]) {
        preTokenization.forEachWord(in: piece) { word in
            if ignoreMerges, let id = modelTexts.id(of: word.flatMap { ByteLevel.utf8ForByte[Int($0)] }) {
                ids.append(id)
            } else {
                bpe.encode(word: word, texts: modelTexts, into: &ids)
            }
        }
    }

    /// The bytes one token stands for (possibly part of a UTF-8 character; an added token's
    /// content as it is), or nil for an id outside the vocabulary. For streaming: the bytes of
    /// consecutive tokens joined are exactly `decodeBytes` of them.
    public func piece(_ token: Int32) -> [UInt8]? {
        guard token >= 0, Int(token) < texts.count else { return nil }
        return HFByteLevelDecoder.bytes(of: texts.text(Int(token)))
    }

    /// The bytes of HF's decode before its UTF-8 clean-up: every token's bytes joined, leaving out
    /// ids outside the vocabulary (as HF does: Whisper's timestamp ids are not in its file) and,
    /// with `skipSpecial`, the special added tokens.
    public func decodeBytes(_ tokens: [Int32], skipSpecial: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        for token in tokens where !(skipSpecial && special.contains(token)) {
            if let piece = piece(token) { bytes += piece }
        }
        return bytes
    }

    /// Decodes as HF's decode(ids, skip_special_tokens: skipSpecial) does (HF's default is to
    /// skip them); malformed UTF-8 becomes U+FFFD.
    public func decode(_ tokens: [Int32], skipSpecial: Bool = true) -> String {
        String(decoding: decodeBytes(tokens, skipSpecial: skipSpecial), as: UTF8.self)
    }

    /// The id of a token by its text (HF's token_to_id): an added token's content ("<|en|>") or a
    /// vocabulary text in the byte-level alphabet ("Ġhello"); nil when there is none.
    public func tokenID(_ text: String) -> Int32? {
        texts.id(of: text)
    }

    /// A token's text (HF's id_to_token), or nil outside the vocabulary.
    public func tokenText(_ token: Int32) -> String? {
        guard token >= 0, Int(token) < texts.count else { return nil }
        return String(decoding: texts.text(Int(token)), as: UTF8.self)
    }

    /// Whether an id is an added token marked special (Whisper: <|endoftext|> and every id after).
    public func isSpecial(_ token: Int32) -> Bool {
        special.contains(token)
    }

    /// The special added tokens, ascending.
    public var specialTokens: [Int32] { special.sorted() }
}
