// Special-token partition (llama.cpp's tokenizer_st_partition): before any model runs, the text
// is cut at occurrences of special tokens' texts. User-defined tokens are always cut out;
// control and unknown tokens only when the caller asks to parse special tokens.
//
// llama.cpp takes the special tokens one at a time, longest text first, and for each one cuts every
// non-overlapping occurrence (left to right) out of the text fragments still unclaimed. Doing that
// literally costs (number of special tokens) x (text length): Gemma has 6,400 special tokens. Here
// one pass over the text with a trie finds every occurrence of every special token, and the
// occurrences are then accepted in the same order llama.cpp would find them: by token priority,
// then left to right, skipping any that overlap bytes already claimed. An occurrence is found by
// llama.cpp exactly when it lies wholly inside one unclaimed fragment, so the results agree.

/// One piece of partitioned input: raw text to tokenize, or a special token.
enum Fragment: Equatable {
    case text(Range<Int>)
    case token(Int32)
}

/// A byte trie over the special tokens' texts, built once.
struct SpecialTokenMatcher: Sendable {
    private struct Node: Sendable {
        var children: [(byte: UInt8, node: Int32)] = []
        /// Indexes into `entries` of the tokens with exactly this text, best priority first.
        var terminals: [Int32] = []
    }

    private struct Entry: Sendable {
        let id: Int32
        let length: Int
        /// Control or unknown: only matched when parsing special tokens.
        let needsParseSpecial: Bool
        let lstrip: Bool
        let rstrip: Bool
    }

    private var nodes: [Node] = [Node()]
    private var entries: [Entry] = []
    private var firstByte = [Bool](repeating: false, count: 256)

    /// `tokens` in llama.cpp's search order (see Vocabulary.specialTokens).
    init(tokens: [Int32], vocabulary: Vocabulary) {
        for id in tokens {
            let text = Array(vocabulary.texts.text(Int(id)))
            guard let first = text.first else { continue }
            let attr = vocabulary.attributes(of: id)
            entries.append(Entry(id: id, length: text.count,
                                 needsParseSpecial: !attr.isDisjoint(with: [.control, .unknown]),
                                 lstrip: attr.contains(.lstrip), rstrip: attr.contains(.rstrip)))
            firstByte[Int(first)] = true
            var node = 0
            for b in text {
                if let child = nodes[node].children.first(where: { $0.byte == b }) {
                    node = Int(child.node)
                } else {
                    nodes.append(Node())
                    nodes[node].children.append((b, Int32(nodes.count - 1)))
                    node = nodes.count - 1
                }
            }
            nodes[node].terminals.append(Int32(entries.count - 1))
        }
    }

    /// Splits `bytes` into raw-text ranges and special tokens.
    func partition(_ bytes: [UInt8], parseSpecial: Bool) -> [Fragment] {
        guard !bytes.isEmpty else { return [] }
        guard !entries.isEmpty else { return [.text(0..<bytes.count)] }

        // 1. Every occurrence: (priority = entry index, start).
        var occurrences: [(entry: Int32, start: Int)] = []
        bytes.withUnsafeBufferPointer { buf in
            for start in 0..<buf.count where firstByte[Int(buf[start])] {
                var node = 0
                var i = start
                while i < buf.count {
                    let b = buf[i]
                    guard let child = nodes[node].children.first(where: { $0.byte == b }) else { break }
                    node = Int(child.node)
                    i += 1
                    // Tokens sharing one text: the first eligible in priority order claims it;
                    // the others would find nothing left.
                    if let e = nodes[node].terminals.first(where: { parseSpecial || !entries[Int($0)].needsParseSpecial }) {
                        occurrences.append((e, start))
                    }
                }
            }
        }
        guard !occurrences.isEmpty else { return [.text(0..<bytes.count)] }
        // Order by priority, then start. The scan produced starts in ascending order, so a stable
        // counting sort by entry does it in linear time (a long run of spaces or newlines in
        // Gemma's vocabulary yields about 30 occurrences per byte).
        var firstOfEntry = [Int](repeating: 0, count: entries.count + 1)
        for occ in occurrences { firstOfEntry[Int(occ.entry) + 1] += 1 }
        for e in 0..<entries.count { firstOfEntry[e + 1] += firstOfEntry[e] }
        var ordered = [(entry: Int32, start: Int)](repeating: (0, 0), count: occurrences.count)
        for occ in occurrences {
            ordered[firstOfEntry[Int(occ.entry)]] = occ
            firstOfEntry[Int(occ.entry)] += 1
        }

        // 2. Accept in llama.cpp's order. `claimed` marks bytes taken by a token or stripped.
        var claimed = [Bool](repeating: false, count: bytes.count)
        var tokenAt: [Int: (id: Int32, length: Int)] = [:]
        for occ in ordered {
            let e = entries[Int(occ.entry)]
            let s = occ.start, end = s + e.length
            var free = true
            for k in s..<end where claimed[k] { free = false; break }
            guard free else { continue }
            for k in s..<end { claimed[k] = true }
            tokenAt[s] = (e.id, e.length)
            // Strip whitespace (C isspace) from the neighbouring unclaimed text, dropping it.
            if e.lstrip {
                var k = s - 1
                while k >= 0 && !claimed[k] && Self.isCSpace(bytes[k]) { claimed[k] = true; k -= 1 }
            }
            if e.rstrip {
                var k = end
                while k < bytes.count && !claimed[k] && Self.isCSpace(bytes[k]) { claimed[k] = true; k += 1 }
            }
        }

        // 3. Read the fragments off in text order.
        var fragments: [Fragment] = []
        var i = 0
        var textStart = -1
        while i < bytes.count {
            if !claimed[i] {
                if textStart < 0 { textStart = i }
                i += 1
                continue
            }
            if textStart >= 0 {
                fragments.append(.text(textStart..<i))
                textStart = -1
            }
            if let t = tokenAt[i] {
                fragments.append(.token(t.id))
                i += t.length
            } else {
                i += 1   // stripped whitespace
            }
        }
        if textStart >= 0 { fragments.append(.text(textStart..<bytes.count)) }
        return fragments
    }

    @inline(__always)
    private static func isCSpace(_ b: UInt8) -> Bool {
        b == 0x20 || (b >= 0x09 && b <= 0x0D)
    }
}
