// The added tokens of a Hugging Face tokenizer.json (`added_tokens`) and how they are found in
// input text, exactly as `tokenizers`' AddedVocabulary does it when there is no normalizer:
// first the tokens with normalized false are found in the whole text, then the tokens with
// normalized true in each piece of text left between them; each pass takes the leftmost match,
// the longest at that position. When special tokens are not to be parsed (HF's
// encode_special_tokens), a match of a special token is still consumed but left as text, so a
// shorter token inside it is not found either; the text around it stays one piece.
// Ids are checked to be the ones HF gives while loading: a token whose content is in the model's
// vocabulary has that token's id, any other the next id after the vocabulary and the added
// tokens before it (HF only warns when a file says otherwise; here the file is refused).
// single_word, lstrip and rstrip are refused by name. Provenance:
// tokenizers/src/tokenizer/{added_vocabulary.rs,serialization.rs}.

import ReproJSON

/// One entry of `added_tokens`.
struct HFAddedToken: Sendable {
    let content: String
    let id: Int32
    let special: Bool
    let normalized: Bool

    /// Reads `added_tokens`, checking each id against the one HF gives it (see the header).
    static func readAll(_ array: [JSONValue]?, path: String, model: TokenTextTable) throws -> [HFAddedToken] {
        var tokens: [HFAddedToken] = []
        var seen: [[UInt8]: Int] = [:]     // content -> entry index
        var nextID = model.count
        for (index, value) in (array ?? []).enumerated() {
            var reader = try JSONObjectReader(value, path: "\(path)[\(index)]")
            let content = try reader.string("content")
            guard !content.isEmpty else {
                throw JSONFieldError(path: reader.fieldPath("content"), message: "must not be empty")
            }
            // Bytes, not String equality: canonically equivalent spellings are different tokens.
            let bytes = Array(content.utf8)
            if let earlier = seen[bytes] {
                throw ByteLevelBPEError.invalidVocabulary("added token '\(content)' is given twice (\(path)[\(earlier)] and [\(index)])")
            }
            let fileID = try reader.int("id", in: 0...Int64(Int32.max))
            let expected: Int
            if let id = model.id(of: bytes) {
                expected = Int(id)
            } else {
                expected = nextID
                nextID += 1
            }
            guard fileID == expected else {
                throw ByteLevelBPEError.invalidVocabulary(
                    "added token '\(content)' has id \(fileID), but Hugging Face gives it \(expected) (a token of model.vocab keeps its id; others follow the vocabulary in order)")
            }
            for flag in ["single_word", "lstrip", "rstrip"] {
                guard try reader.optionalBool(flag) == true else { continue }
                throw ByteLevelBPEError.unsupported("added token '\(content)' with \(flag) (supported: none of single_word, lstrip, rstrip)")
            }
            let special = try reader.optionalBool("special") ?? false
            // HF's default: special tokens match the raw text, others the normalized text.
            let normalized = try reader.optionalBool("normalized") ?? !special
            try reader.finish()
            seen[bytes] = index
            tokens.append(HFAddedToken(content: content, id: Int32(expected), special: special, normalized: normalized))
        }
        return tokens
    }
}

/// Finds added tokens in text.
struct HFAddedTokenMatcher: Sendable {
    private let unnormalized: AddedTokenSplitter
    private let normalized: AddedTokenSplitter
    private let special: Set<Int32>

    init(tokens: [HFAddedToken]) {
        unnormalized = AddedTokenSplitter(tokens: tokens.filter { !$0.normalized }.map { ($0.content, $0.id) })
        normalized = AddedTokenSplitter(tokens: tokens.filter(\.normalized).map { ($0.content, $0.id) })
        special = Set(tokens.filter(\.special).map(\.id))
    }

    /// The pieces of `bytes`: text to pre-tokenize and tokenize, or an added token.
    func split(_ bytes: [UInt8], parseSpecial: Bool) -> [AddedTokenSplitter.Piece] {
        let leftAsText = parseSpecial ? [] : special
        var pieces: [AddedTokenSplitter.Piece] = []
        for piece in unnormalized.split(bytes, in: 0..<bytes.count, leftAsText: leftAsText) {
            guard case .text(let range) = piece else {
                pieces.append(piece)
                continue
            }
            pieces += normalized.split(bytes, in: range, leftAsText: leftAsText)
        }
        return pieces
    }
}
