// Byte-level BPE (llama.cpp's llm_tokenizer_bpe_session): each pre-tokenized word is written in
// the GPT-2 byte alphabet, split into one symbol per byte, and the adjacent pair with the lowest
// merge rank is merged until no ranked pair is left; among equal ranks the leftmost pair goes
// first. Symbols that end up outside the vocabulary fall back to one-byte tokens.
//
// For speed every piece of text BPE can form is interned as an integer at load time (token ids
// for texts in the vocabulary, ids past the vocabulary for the few merge results that are not),
// so a merge is a lookup of an (id, id) pair instead of a string concatenation.

/// Merge ranks and the byte alphabet of a byte-level BPE vocabulary, built once.
struct BPEModel: Sendable {
    /// (left piece << 32 | right piece) -> (rank << 32 | merged piece).
    private let merges: [UInt64: UInt64]
    /// The piece id of each byte's alphabet character.
    private let bytePiece: [Int32]
    /// Number of real tokens; piece ids at or past it are interned texts outside the vocabulary.
    private let vocabularyCount: Int
    /// Texts of the interned pieces, for the byte fallback.
    private let extraTexts: [[UInt8]]

    /// Builds the merge table from `tokenizer.ggml.merges` ("left right", rank = position).
    init(merges mergeStrings: [String], texts: TokenTextTable) {
        let n = texts.count
        var extras: [[UInt8]: Int32] = [:]
        var extraTexts: [[UInt8]] = []
        func piece(_ bytes: [UInt8]) -> Int32 {
            if let id = texts.id(of: bytes) { return id }
            if let id = extras[bytes] { return id }
            let id = Int32(n + extraTexts.count)
            extras[bytes] = id
            extraTexts.append(bytes)
            return id
        }
        bytePiece = ByteLevel.utf8ForByte.map { piece($0) }
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(mergeStrings.count)
        var joined: [UInt8] = []
        for (rank, merge) in mergeStrings.enumerated() {
            let utf8 = merge.utf8
            // Lookups straight from the string's storage: this loop runs 150,000 times for Qwen.
            let entry: (UInt64, [UInt8])? = utf8.withContiguousStorageIfAvailable { bytes in
                // Split at the first space after the first byte, as llama.cpp does (find(' ', 1)).
                guard bytes.count > 1, let space = bytes[1...].firstIndex(of: 0x20), space + 1 < bytes.count else {
                    return nil
                }
                let left = UnsafeBufferPointer(rebasing: bytes[..<space])
                let right = UnsafeBufferPointer(rebasing: bytes[(space + 1)...])
                let l = texts.id(of: left) ?? piece(Array(left))
                let r = texts.id(of: right) ?? piece(Array(right))
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: left)
                joined.append(contentsOf: right)
                return (Self.pairKey(l, r), joined)
            } ?? nil
            guard let (key, merged) = entry ?? Self.slowSplit(utf8, piece: piece) else { continue }
            // The first rank of a repeated pair wins (std::unordered_map::emplace).
            if table[key] == nil {
                table[key] = (UInt64(rank) << 32) | UInt64(UInt32(bitPattern: piece(merged)))
            }
        }
        merges = table
        vocabularyCount = n
        self.extraTexts = extraTexts
    }

    /// Builds the merge table from merges already resolved to token ids (rank = position), as a
    /// Hugging Face tokenizer.json gives them: the reader has checked that both halves and the
    /// result are tokens and that no pair is given twice, and that every byte's alphabet
    /// character is a token, so nothing is interned here and every symbol is a token.
    init(rankedMerges: [(left: Int32, right: Int32, merged: Int32)], texts: TokenTextTable) {
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(rankedMerges.count)
        for (rank, merge) in rankedMerges.enumerated() {
            let key = Self.pairKey(merge.left, merge.right)
            if table[key] == nil {
                table[key] = (UInt64(rank) << 32) | UInt64(UInt32(bitPattern: merge.merged))
            }
        }
        merges = table
        vocabularyCount = texts.count
        // A byte whose character is missing would be interned past the vocabulary and fall back
        // to one-byte tokens in `emit`; the reader refuses such vocabularies, so none is.
        var extraTexts: [[UInt8]] = []
        bytePiece = ByteLevel.utf8ForByte.map { text in
            if let id = texts.id(of: text) { return id }
            extraTexts.append(text)
            return Int32(texts.count + extraTexts.count - 1)
        }
        self.extraTexts = extraTexts
    }

    /// The same split for a string without contiguous UTF-8 storage (bridged strings).
    private static func slowSplit(_ utf8: String.UTF8View,
                                  piece: ([UInt8]) -> Int32) -> (UInt64, [UInt8])? {
        let bytes = Array(utf8)
        guard bytes.count > 1, let space = bytes[1...].firstIndex(of: 0x20), space + 1 < bytes.count else { return nil }
        let left = Array(bytes[..<space]), right = Array(bytes[(space + 1)...])
        return (pairKey(piece(left), piece(right)), left + right)
    }

    @inline(__always)
    private static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        (UInt64(UInt32(bitPattern: a)) << 32) | UInt64(UInt32(bitPattern: b))
    }

    /// Tokenizes one word given as raw UTF-8 bytes and appends the tokens.
    func encode(word: ArraySlice<UInt8>, texts: TokenTextTable, into output: inout [Int32]) {
        let count = word.count
        guard count > 0 else { return }
        if count == 1, let b = word.first {
            emit(bytePiece[Int(b)], texts: texts, into: &output)
            return
        }
        var symbols = [Int32](); symbols.reserveCapacity(count)
        for b in word { symbols.append(bytePiece[Int(b)]) }
        var prev = [Int](repeating: -1, count: count)
        var next = [Int](repeating: -1, count: count)
        for i in 0..<count {
            prev[i] = i - 1
            next[i] = i + 1 < count ? i + 1 : -1
        }
        var alive = [Bool](repeating: true, count: count)
        var heap = BinaryHeap<BPECandidate>()

        func consider(_ l: Int, _ r: Int) {
            guard l >= 0, r >= 0 else { return }
            guard let v = merges[Self.pairKey(symbols[l], symbols[r])] else { return }
            heap.push(BPECandidate(rank: Int32(truncatingIfNeeded: v >> 32), left: l, right: r,
                                   leftPiece: symbols[l], rightPiece: symbols[r],
                                   merged: Int32(truncatingIfNeeded: v & 0xFFFF_FFFF)))
        }
        for i in 1..<count { consider(i - 1, i) }

        while let c = heap.pop() {
            let l = c.left, r = c.right
            // Skip pairs that an earlier merge changed: both must still be alive, adjacent and
            // unchanged (llama.cpp compares the texts, which amounts to the same).
            guard alive[l], alive[r], next[l] == r,
                  symbols[l] == c.leftPiece, symbols[r] == c.rightPiece else { continue }
            symbols[l] = c.merged
            alive[r] = false
            next[l] = next[r]
            if next[r] >= 0 { prev[next[r]] = l }
            consider(prev[l], l)
            consider(l, next[l])
        }

        var i = 0
        while i >= 0 {
            emit(symbols[i], texts: texts, into: &output)
            i = next[i]
        }
    }

    /// A finished symbol: its token if it is in the vocabulary, else one token per byte of its
    /// alphabet text that is itself a token (llama.cpp looks up each byte as a one-byte string;
    /// bytes that are not tokens are dropped).
    @inline(__always)
    private func emit(_ piece: Int32, texts: TokenTextTable, into output: inout [Int32]) {
        if Int(piece) < vocabularyCount {
            output.append(piece)
            return
        }
        let index = Int(piece) - vocabularyCount
        guard index >= 0, index < extraTexts.count else { return }
        for b in extraTexts[index] {
            if let id = texts.id(of: [b]) { output.append(id) }
        }
    }
}

/// A candidate merge. Lower rank first, then the leftmost.
struct BPECandidate: HeapElement {
    let rank: Int32
    let left: Int
    let right: Int
    let leftPiece: Int32
    let rightPiece: Int32
    let merged: Int32

    @inline(__always)
    static func comesBefore(_ a: BPECandidate, _ b: BPECandidate) -> Bool {
        a.rank != b.rank ? a.rank < b.rank : a.left < b.left
    }
}

/// An element of `BinaryHeap`: `comesBefore` is a strict order, the first element pops first.
protocol HeapElement {
    static func comesBefore(_ a: Self, _ b: Self) -> Bool
}

/// A binary min-heap (by `comesBefore`). Small and specialised; the tokenizers' work queues.
struct BinaryHeap<Element: HeapElement> {
    private var items: [Element] = []

    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ e: Element) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Element.comesBefore(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var i = 0
        let n = items.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < n && Element.comesBefore(items[l], items[best]) { best = l }
            if r < n && Element.comesBefore(items[r], items[best]) { best = r }
            if best == i { break }
            items.swapAt(i, best)
            i = best
        }
        return top
    }
}
