// Hugging Face's WordPiece decoder: pieces are joined, a piece starting with the continuing prefix
// is glued to the one before (prefix removed), any other gets a space in front (except the first);
// then, with cleanup, each piece (space included) has the usual tokenization artifacts undone:
// " ." -> ".", " n't" -> "n't", " do not" -> " don't" and so on, in HF's order. The rewriting
// works on bytes, as Rust's `str::replace` does (Swift's string search would match canonically
// equivalent text too).

/// Turns WordPiece tokens back into text.
struct WordPieceDecoder: Sendable {
    let continuingPrefix: [UInt8]
    let cleanup: Bool

    /// HF's `cleanup` replacements, applied in this order.
    private static let replacements: [(from: [UInt8], to: [UInt8])] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
        (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

    func decode(_ tokens: [ArraySlice<UInt8>]) -> String {
        var out: [UInt8] = []
        for (i, token) in tokens.enumerated() {
            var piece: [UInt8]
            if i > 0 && token.starts(with: continuingPrefix) {
                piece = Array(token.dropFirst(continuingPrefix.count))
            } else if i > 0 {
                piece = [UInt8(ascii: " ")] + token
            } else {
                piece = Array(token)
            }
            if cleanup {
                for r in Self.replacements { piece = Self.replaceAll(r.from, with: r.to, in: piece) }
            }
            out += piece
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Every non-overlapping occurrence of `pattern`, left to right, replaced.
    static func replaceAll(_ pattern: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard !pattern.isEmpty, bytes.count >= pattern.count else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes.count - i >= pattern.count && bytes[i..<i + pattern.count].elementsEqual(pattern) {
                out += replacement
                i += pattern.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}
