// Hugging Face's BertPreTokenizer: split on whitespace (dropped), then split off every punctuation
// character as a word of its own. "Hey friend!  How are you?!?" gives Hey, friend, !, How, are,
// you, ?, !, ?.

/// Splits normalized text into the words the WordPiece model sees.
enum BertPreTokenizer {
    /// The words of `text`, as ranges of it, in order.
    static func words(_ text: [Unicode.Scalar]) -> [Range<Int>] {
        var words: [Range<Int>] = []
        var start = 0
        for (i, scalar) in text.enumerated() {
            let cls = BertCharacterClass.of(scalar)
            if cls.contains(.whitespace) {
                if start < i { words.append(start..<i) }
                start = i + 1
            } else if cls.contains(.punctuation) {
                if start < i { words.append(start..<i) }
                words.append(i..<i + 1)
                start = i + 1
            }
        }
        if start < text.count { words.append(start..<text.count) }
        return words
    }
}
