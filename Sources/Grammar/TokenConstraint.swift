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

    public init(pieces: [[UInt8]?], endTokens: Set<Int32>) {
        self.pieces = pieces
        self.endTokens = endTokens
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

    /// Records a chosen token (one `allows` returned true for).
    public mutating func accept(_ token: Int32) {
        if vocabulary.endTokens.contains(token) { return }
        guard token >= 0, Int(token) < vocabulary.pieces.count, let piece = vocabulary.pieces[Int(token)] else { return }
        matcher.accept(piece)
    }
}
