// Hugging Face's added-token extraction, for tokens matched on the raw text (normalized: false,
// as [CLS], [SEP], [PAD], [MASK] and [UNK] are in BERT files): before normalization the input is
// cut at every occurrence of an added token's content, leftmost first and the longest at a given
// position, and each occurrence becomes that token. This happens whether or not the caller asks
// for special tokens to be added: "[SEP]" typed in a text is the [SEP] token.

/// Cuts raw text at added tokens.
struct AddedTokenSplitter: Sendable {
    /// A piece of the input: text to normalize and tokenize, or an added token.
    enum Piece: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    /// The tokens by their first byte, longest content first.
    private var byFirstByte: [[(content: [UInt8], id: Int32)]] = Array(repeating: [], count: 256)

    init(tokens: [(content: String, id: Int32)]) {
        for token in tokens {
            let bytes = Array(token.content.utf8)
            guard let first = bytes.first else { continue }
            byFirstByte[Int(first)].append((bytes, token.id))
        }
        for i in byFirstByte.indices {
            byFirstByte[i].sort { $0.content.count > $1.content.count }
        }
    }

    /// The pieces of `bytes` (valid UTF-8; a match of valid UTF-8 content can only start at a
    /// character boundary, so no character is cut).
    func split(_ bytes: [UInt8]) -> [Piece] {
        split(bytes, in: 0..<bytes.count)
    }

    /// The pieces of `bytes[range]`, with ranges into `bytes` (a second pass over one text piece
    /// of a first, as Hugging Face's normalized added tokens are found). A match of a token in
    /// `leftAsText` is skipped over but stays part of the text around it, as Hugging Face treats
    /// special tokens when asked not to parse them: nothing inside it can match either.
    func split(_ bytes: [UInt8], in range: Range<Int>, leftAsText: Set<Int32> = []) -> [Piece] {
        var pieces: [Piece] = []
        var textStart = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            if let match = byFirstByte[Int(bytes[i])].first(where: { matches($0.content, bytes, at: i, end: range.upperBound) }) {
                i += match.content.count
                if leftAsText.contains(match.id) { continue }
                let start = i - match.content.count
                if textStart < start { pieces.append(.text(textStart..<start)) }
                pieces.append(.token(match.id))
                textStart = i
            } else {
                i += 1
            }
        }
        if textStart < range.upperBound { pieces.append(.text(textStart..<range.upperBound)) }
        return pieces
    }

    private func matches(_ content: [UInt8], _ bytes: [UInt8], at i: Int, end: Int) -> Bool {
        guard content.count <= end - i else { return false }
        for k in 0..<content.count where bytes[i + k] != content[k] { return false }
        return true
    }
}
