// SentencePiece-style BPE (llama.cpp's llm_tokenizer_spm_session): the text, spaces written as
// U+2581, starts as one symbol per UTF-8 character; the adjacent pair whose concatenation is a
// token with the highest score is merged first (ties: leftmost), until no pair forms a token.
// A symbol left outside the vocabulary becomes byte tokens "<0xXX>" (byte fallback).

/// The SentencePiece merge loop over a vocabulary's texts and scores.
struct SPMModel: Sendable {
    /// Token of each byte for the byte fallback: "<0xXX>" if present, else the one-byte text.
    private let byteTokens: [Int32?]

    init(texts: TokenTextTable) {
        let hex = Array("0123456789ABCDEF".utf8)
        byteTokens = (0..<256).map { b -> Int32? in
            let name: [UInt8] = [0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E]   // <0xXX>
            return texts.id(of: name) ?? texts.id(of: [UInt8(b)])
        }
    }

    /// Spaces become U+2581 ("▁"), as llama_escape_whitespace does before SPM tokenization.
    static func escapeWhitespace(_ bytes: ArraySlice<UInt8>, prefixSpace: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        if prefixSpace { out.append(contentsOf: [0xE2, 0x96, 0x81]) }
        for b in bytes {
            if b == 0x20 {
                out.append(contentsOf: [0xE2, 0x96, 0x81])
            } else {
                out.append(b)
            }
        }
        return out
    }

    /// Tokenizes escaped text and appends the tokens.
    func encode(_ text: [UInt8], texts: TokenTextTable, scores: [Float], into output: inout [Int32]) {
        guard !text.isEmpty else { return }
        text.withUnsafeBufferPointer { buf in
            encode(buf, texts: texts, scores: scores, into: &output)
        }
    }

    private func encode(_ buf: UnsafeBufferPointer<UInt8>, texts: TokenTextTable, scores: [Float],
                        into output: inout [Int32]) {
        // Symbols: start offset and byte length; merged-away symbols have length 0.
        var start: [Int] = []
        var length: [Int] = []
        var offset = 0
        while offset < buf.count {
            let n = min(UTF8Scan.sequenceLength(lead: buf[offset]), buf.count - offset)
            start.append(offset)
            length.append(n)
            offset += n
        }
        let count = start.count
        var prev = [Int](repeating: -1, count: count)
        var next = [Int](repeating: -1, count: count)
        for i in 0..<count {
            prev[i] = i - 1
            next[i] = i + 1 < count ? i + 1 : -1
        }
        var heap = BinaryHeap<SPMCandidate>()

        func consider(_ l: Int, _ r: Int) {
            guard l >= 0, r >= 0 else { return }
            let s = start[l]
            let size = length[l] + length[r]
            // The right symbol follows the left one in the text, so the pair is one slice.
            guard let id = texts.id(of: UnsafeBufferPointer(rebasing: buf[s..<(s + size)])),
                  Int(id) < scores.count else { return }
            heap.push(SPMCandidate(score: scores[Int(id)], left: l, right: r, size: size))
        }
        for i in 1..<count { consider(i - 1, i) }

        while let c = heap.pop() {
            let l = c.left, r = c.right
            // Stale if either side was merged since (llama.cpp checks lengths only; a symbol's
            // text can only grow, so a changed pair always has a different total length).
            guard length[l] > 0, length[r] > 0, length[l] + length[r] == c.size else { continue }
            length[l] += length[r]
            length[r] = 0
            next[l] = next[r]
            if next[r] >= 0 { prev[next[r]] = l }
            consider(prev[l], l)
            consider(l, next[l])
        }

        var i = 0
        while i >= 0 {
            let s = start[i], n = length[i]
            let piece = UnsafeBufferPointer(rebasing: buf[s..<(s + n)])
            if let id = texts.id(of: piece) {
                output.append(id)
            } else {
                // Only single characters can be missing (every merge result is a token), so
                // llama.cpp's resegment step reduces to the byte fallback.
                for b in piece {
                    if let id = byteTokens[Int(b)] { output.append(id) }
                }
            }
            i = next[i]
        }
    }
}

/// A candidate merge: higher score first, then the leftmost (llama.cpp's llm_bigram_spm order).
struct SPMCandidate: HeapElement {
    let score: Float
    let left: Int
    let right: Int
    let size: Int

    @inline(__always)
    static func comesBefore(_ a: SPMCandidate, _ b: SPMCandidate) -> Bool {
        if a.score > b.score { return true }
        if a.score < b.score { return false }
        return a.left < b.left
    }
}
