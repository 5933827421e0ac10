// A grammar applied to tokens: which tokens of a vocabulary keep the generated text a valid
// prefix of the grammar. A token is allowed when its bytes may follow the text so far (across
// token boundaries: a token may end, or begin, inside a UTF-8 character); an end-of-generation
// token only when the text is a complete sentence; a control token (whose text is not output
// text) never. When the text is complete and nothing may follow, only the end tokens are left.

/// The byte pieces of a vocabulary as the constraint sees them, built once per model.
public final class ConstraintVocabulary: Sendable {
    /// Per token: the bytes it adds to the text, or nil when it may never be generated under a
    /// constraint (control tokens, empty pieces).
    public let pieces: [[UInt8]?]
    public let endTokens: Set<Int32>
    /// The tokens with a piece, sorted by their bytes: tokens sharing a prefix are a contiguous
    /// run, so one walk can match a shared prefix once for all of them (a trie, as ranges).
    let sorted: [Int32]

    public init(pieces: [[UInt8]?], endTokens: Set<Int32>) {
        self.pieces = pieces
        self.endTokens = endTokens
        sorted = (0..<Int32(pieces.count))
            .filter { !endTokens.contains($0) && !(pieces[Int($0)]?.isEmpty ?? true) }
            .sorted { a, b in pieces[Int(a)]!.lexicographicallyPrecedes(pieces[Int(b)]!) }
    }
}

public struct TokenConstraint: Sendable {
    public private(set) var matcher: GrammarMatcher
    public let vocabulary: ConstraintVocabulary

    public init(grammar: Grammar, vocabulary: ConstraintVocabulary) {
        matcher = GrammarMatcher(grammar)
        self.vocabulary = vocabulary
    }

    public var isComplete: Bool { matcher.isComplete }

    public func allows(_ token: Int32) -> Bool {
        if vocabulary.endTokens.contains(token) { return matcher.isComplete }
        guard token >= 0, Int(token) < vocabulary.pieces.count, let piece = vocabulary.pieces[Int(token)], !piece.isEmpty else {
            return false
        }
        return matcher.allows(piece)
    }

    /// Every allowed token, in no particular order. A walk over the sorted pieces: a prefix the
    /// grammar refuses rules out every token that starts with it at once, so a narrow grammar
    /// state (digits only, say) costs little however large the vocabulary.
    public func allowedTokens() -> [Int32] {
        var out: [Int32] = matcher.isComplete ? vocabulary.endTokens.sorted() : []
        walk(0, vocabulary.sorted.count, depth: 0, matcher, into: &out)
        return out
    }

    /// Tokens sorted[lo..<hi] share their first `depth` bytes, which took the matcher to `state`.
    private func walk(_ lo: Int, _ hi: Int, depth: Int, _ state: GrammarMatcher, into out: inout [Int32]) {
        let sorted = vocabulary.sorted, pieces = vocabulary.pieces
        var i = lo
        // Pieces that end here sort first.
        while i < hi, pieces[Int(sorted[i])]!.count == depth {
            out.append(sorted[i])
            i += 1
        }
        while i < hi {
            let byte = pieces[Int(sorted[i])]![depth]
            // The end of the run with this byte at `depth` (bytes there ascend within the range).
            var a = i + 1, b = hi
            while a < b {
                let mid = (a + b) / 2
                if pieces[Int(sorted[mid])]![depth] == byte { a = mid + 1 } else { b = mid }
            }
            if let next = state.advanced(by: CollectionOfOne(byte)) {
                walk(i, a, depth: depth + 1, next, into: &out)
            }
            i = a
        }
    }

    /// Records a chosen token (one `allows` returned true for).
    public mutating func accept(_ token: Int32) {
        if vocabulary.endTokens.contains(token) { return }
        guard token >= 0, Int(token) < vocabulary.pieces.count, let piece = vocabulary.pieces[Int(token)] else { return }
        matcher.accept(piece)
    }
}
