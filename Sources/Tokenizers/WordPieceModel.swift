// Hugging Face's WordPiece model: each word becomes its longest vocabulary prefix, then the longest
// "##"-prefixed entry matching what follows, and so on; a word that cannot be covered that way, or
// that is longer than max_input_chars_per_word characters, becomes a single [UNK].

/// The vocabulary and the greedy longest-match-first split of one word.
struct WordPieceModel: Sendable {
    let vocabulary: TokenTextTable
    let unknown: Int32
    /// "##" in BERT: marks a piece that continues a word.
    let continuingPrefix: [UInt8]
    /// Words of more characters than this become [UNK] without being looked at.
    let maxInputCharacters: Int
    /// The longest vocabulary entry in bytes; no longer candidate can match, so none is looked up.
    private let longestEntry: Int

    init(vocabulary: TokenTextTable, unknown: Int32, continuingPrefix: [UInt8], maxInputCharacters: Int) {
        self.vocabulary = vocabulary
        self.unknown = unknown
        self.continuingPrefix = continuingPrefix
        self.maxInputCharacters = maxInputCharacters
        longestEntry = (0..<vocabulary.count).map { vocabulary.textLength($0) }.max() ?? 0
    }

    /// Appends the ids of one word (a non-empty run of normalized characters).
    func encode(_ word: ArraySlice<Unicode.Scalar>, into output: inout [Int32]) {
        guard word.count <= maxInputCharacters else {
            output.append(unknown)
            return
        }
        var bytes: [UInt8] = []
        var ends: [Int] = []    // ends[k]: the byte offset where character k ends
        ends.reserveCapacity(word.count)
        for scalar in word {
            UTF8.encode(scalar) { bytes.append($0) }
            ends.append(bytes.count)
        }
        let pieceStart = output.count
        var candidate: [UInt8] = []
        var start = 0   // characters consumed
        while start < word.count {
            // The candidates from `start` on are prefixes of this buffer: the rest of the word,
            // after "##" unless it is the word's start.
            let startByte = start == 0 ? 0 : ends[start - 1]
            let headLength = start == 0 ? 0 : continuingPrefix.count
            candidate.removeAll(keepingCapacity: true)
            candidate += continuingPrefix.prefix(headLength)
            candidate += bytes[startByte...]
            var found: (id: Int32, end: Int)?
            candidate.withUnsafeBufferPointer { buf in
                var end = word.count
                while end > start {
                    let length = headLength + ends[end - 1] - startByte
                    if length <= longestEntry, let id = vocabulary.id(of: UnsafeBufferPointer(rebasing: buf[..<length])) {
                        found = (id, end)
                        return
                    }
                    end -= 1
                }
            }
            guard let found else {
                output.removeSubrange(pieceStart...)
                output.append(unknown)
                return
            }
            output.append(found.id)
            start = found.end
        }
    }
}
