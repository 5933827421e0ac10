// Merges a tokenizer.json lost, restored from the vocabulary when its ids are BPE ranks.
//
// Whisper's own tokenizer is OpenAI's tiktoken encoding: BPE that merges, among adjacent parts,
// the pair whose concatenation has the lowest rank, and a token's rank is its id. A tokenizer.json
// converted from it lists the merges in that order (merge i makes token 257 + i in whisper-base's),
// but faster-whisper's (Systran/faster-whisper-base) lacks exactly one: the first, Ġ + t → Ġt
// (id 256), the line a converter loses when it skips a merges.txt's first line as a "#version"
// header the file does not have. Without it " to", " the", " this" come out as " " + "to" (220, 1353),
// ids the model never produces and scores as unlikely (a logprob near −15 where Whisper's own
// " to" has −0.2), and Hugging Face `tokenizers` (so faster-whisper's prompts) tokenizes so.
//
// The rule, which needs nothing but the file: when every merge makes a token with a larger id
// than the merge before it (a vocabulary whose ids are ranks), each token below the last merged
// id that no merge makes (the byte alphabet aside) is split by rank BPE of its own characters
// under the tokens ranked before it (tiktoken's rule); if that leaves two parts, their merge is
// restored at the rank its id gives. For whisper-base that is Ġ t → Ġt and nothing else
// (its token 50256 has no text).

enum RankOrderedMerges {
    typealias Merge = (left: Int32, right: Int32, merged: Int32)

    /// The merges the file lacks under the rule above, ascending by the id they make; empty when
    /// the file's merges are not in id order (then its ids are not ranks, and nothing is implied).
    static func missing(from merges: [Merge], texts: TokenTextTable) -> [Merge] {
        guard let last = merges.last?.merged,
              zip(merges, merges.dropFirst()).allSatisfy({ $0.merged < $1.merged }) else { return [] }
        var made = Set(merges.map(\.merged))
        for text in ByteLevel.utf8ForByte { if let id = texts.id(of: text) { made.insert(id) } }
        var restored: [Merge] = []
        for t in 0..<last where !made.contains(t) {
            guard let parts = rankSplit(Int(t), texts: texts), parts.count == 2 else { continue }
            restored.append((parts[0], parts[1], t))
        }
        return restored
    }

    /// `merges` with `extra` (ascending by merged id) put at the ranks their ids give.
    static func merged(_ merges: [Merge], with extra: [Merge]) -> [Merge] {
        var out: [Merge] = []
        out.reserveCapacity(merges.count + extra.count)
        var i = 0
        for m in merges {
            while i < extra.count, extra[i].merged < m.merged {
                out.append(extra[i])
                i += 1
            }
            out.append(m)
        }
        return out + extra[i...]
    }

    /// Token `t`'s characters merged by rank (lowest id first, ties to the leftmost pair) using
    /// only tokens with ids below `t`; nil when its text is empty or not made of byte tokens.
    static func rankSplit(_ t: Int, texts: TokenTextTable) -> [Int32]? {
        let text = String(decoding: texts.text(t), as: UTF8.self)
        var parts: [(id: Int32, text: String)] = []
        for scalar in text.unicodeScalars {
            let piece = String(scalar)
            guard let id = texts.id(of: piece) else { return nil }
            parts.append((id, piece))
        }
        guard parts.count >= 2 else { return nil }
        while parts.count > 1 {
            var best: (index: Int, id: Int32)?
            for i in 0..<(parts.count - 1) {
                guard let id = texts.id(of: parts[i].text + parts[i + 1].text), Int(id) < t else { continue }
                if best == nil || id < best!.id { best = (i, id) }
            }
            guard let best else { break }
            parts[best.index] = (best.id, parts[best.index].text + parts[best.index + 1].text)
            parts.remove(at: best.index + 1)
        }
        return parts.map(\.id)
    }
}
