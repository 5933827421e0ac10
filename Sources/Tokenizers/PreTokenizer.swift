// Pre-tokenizers of byte-level BPE vocabularies: they cut text into words before BPE runs on each
// word. llama.cpp (unicode.cpp) does not run the Hugging Face regexes through a regex engine for
// these: it has hand-written scanners for the GPT-2 and Qwen2 patterns, and the single-class
// pattern "\p{N}" goes through std::regex on a category-collapsed copy of the text. Those scanners
// differ from the regexes in corner cases (a split is never carried across a segment produced by
// an earlier pattern, for instance), so these are written to the scanners' rules, not the regexes'.
//
// Everything here works on code points and returns word lengths in code points.

/// Which split rules a GGUF `tokenizer.ggml.pre` value selects.
enum PreTokenizer: Sendable {
    /// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    case gpt2
    /// "\p{N}" isolated first, then the GPT-2 rules inside each piece (smollm, starcoder, ...).
    case digitsThenGPT2
    /// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    case qwen2

    /// Splits `cpts` into words; returns each word's length in code points. `tables` says whose
    /// Unicode classes to use: llama.cpp's, or Oniguruma's for Hugging Face tokenizers.
    func split(_ cpts: [UInt32], tables: UnicodeTables = .llamaCpp) -> [Int] {
        guard !cpts.isEmpty else { return [] }
        let flags = CodepointFlags(cpts, tables: tables)
        let whole = [cpts.count]
        switch self {
        case .gpt2:
            return Self.gpt2(cpts, flags, segments: whole)
        case .digitsThenGPT2:
            return Self.gpt2(cpts, flags, segments: Self.isolateNumbers(flags, segments: whole))
        case .qwen2:
            return Self.qwen2(cpts, flags, segments: whole)
        }
    }

    /// "\p{N}": every number code point becomes a word of its own; the runs between stay whole.
    static func isolateNumbers(_ flags: CodepointFlags, segments: [Int]) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(segments.count * 2)
        var base = 0
        for length in segments {
            let end = base + length
            var runStart = base
            for i in base..<end where flags.isNumber(i) {
                if i > runStart { out.append(i - runStart) }
                out.append(1)
                runStart = i + 1
            }
            if runStart < end { out.append(end - runStart) }
            base = end
        }
        return out
    }

    /// The GPT-2 scanner. Within each segment, a position outside the segment reads as "no class"
    /// (llama.cpp's OUT_OF_RANGE), which is what makes `\s+(?!\S)` stop at segment ends.
    static func gpt2(_ cpts: [UInt32], _ flags: CodepointFlags, segments: [Int]) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(cpts.count / 3 + 1)
        var base = 0
        for length in segments {
            let ini = base, end = base + length
            base = end
            var seg = Segment(flags: flags, ini: ini, end: end)
            var pos = ini
            while pos < end {
                let c = cpts[pos]
                // 's|'t|'re|'ve|'m|'ll|'d (lower case only)
                if c == apostrophe && pos + 1 < end {
                    let n1 = cpts[pos + 1]
                    if n1 == s_ || n1 == t_ || n1 == m_ || n1 == d_ {
                        pos = seg.emit(pos + 2, into: &out)
                        continue
                    }
                    if pos + 2 < end {
                        let n2 = cpts[pos + 2]
                        if (n1 == r_ && n2 == e_) || (n1 == v_ && n2 == e_) || (n1 == l_ && n2 == l_) {
                            pos = seg.emit(pos + 3, into: &out)
                            continue
                        }
                    }
                }
                // A leading space joins the run after it; the run's class is that of the next char.
                let lead = (c == space) ? 1 : 0
                let f2 = seg.at(pos + lead)
                // ?\p{L}+
                if f2.isLetter {
                    pos += lead
                    while seg.at(pos).isLetter { pos += 1 }
                    pos = seg.emit(pos, into: &out)
                    continue
                }
                // ?\p{N}+
                if f2.isNumber {
                    pos += lead
                    while seg.at(pos).isNumber { pos += 1 }
                    pos = seg.emit(pos, into: &out)
                    continue
                }
                // ?[^\s\p{L}\p{N}]+
                if f2.isOther {
                    pos += lead
                    while seg.at(pos).isOther { pos += 1 }
                    pos = seg.emit(pos, into: &out)
                    continue
                }
                var spaces = 0
                while seg.at(pos + spaces).isWhitespace { spaces += 1 }
                // \s+(?!\S): leave the last space to prefix the next word, unless the segment ends.
                if spaces > 1 && pos + spaces < end {
                    pos = seg.emit(pos + spaces - 1, into: &out)
                    continue
                }
                if spaces > 0 {
                    pos = seg.emit(pos + spaces, into: &out)
                    continue
                }
                pos = seg.emit(pos + 1, into: &out)
            }
        }
        return out
    }

    /// The Qwen2 scanner (llama.cpp's unicode_regex_split_custom_qwen2), quirks included: the
    /// punctuation branch tests the class of the first character, not of the one after a space.
    static func qwen2(_ cpts: [UInt32], _ flags: CodepointFlags, segments: [Int]) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(cpts.count / 3 + 1)
        var base = 0
        for length in segments {
            let ini = base, end = base + length
            base = end
            var seg = Segment(flags: flags, ini: ini, end: end)
            var pos = ini
            while pos < end {
                let c = cpts[pos]
                let f = seg.at(pos)
                // (?i:'s|'t|'re|'ve|'m|'ll|'d). Only ASCII capitals lower-case to these letters.
                if c == apostrophe && pos + 1 < end {
                    let n1 = asciiLower(cpts[pos + 1])
                    if n1 == s_ || n1 == t_ || n1 == m_ || n1 == d_ {
                        pos = seg.emit(pos + 2, into: &out)
                        continue
                    }
                    if pos + 2 < end {
                        let n2 = asciiLower(cpts[pos + 2])
                        if (n1 == r_ && n2 == e_) || (n1 == v_ && n2 == e_) || (n1 == l_ && n2 == l_) {
                            pos = seg.emit(pos + 3, into: &out)
                            continue
                        }
                    }
                }
                // [^\r\n\p{L}\p{N}]?\p{L}+
                if !(c == cr || c == lf || f.isNumber) {
                    if f.isLetter || seg.at(pos + 1).isLetter {
                        pos += 1
                        while seg.at(pos).isLetter { pos += 1 }
                        pos = seg.emit(pos, into: &out)
                        continue
                    }
                }
                // \p{N}: one digit at a time.
                if f.isNumber {
                    pos = seg.emit(pos + 1, into: &out)
                    continue
                }
                // ?[^\s\p{L}\p{N}]+[\r\n]*
                var f2 = (c == space) ? seg.at(pos + 1) : f
                if f2.isNotWordOrSpace && f.isInRange {
                    if c == space { pos += 1 }
                    while f2.isOther {
                        pos += 1
                        f2 = seg.at(pos)
                    }
                    while pos < end && (cpts[pos] == cr || cpts[pos] == lf) { pos += 1 }
                    pos = seg.emit(pos, into: &out)
                    continue
                }
                var spaces = 0
                var afterLastNewline = 0
                while seg.at(pos + spaces).isWhitespace {
                    let w = cpts[pos + spaces]
                    if w == cr || w == lf { afterLastNewline = pos + spaces + 1 }
                    spaces += 1
                }
                // \s*[\r\n]+
                if afterLastNewline > 0 {
                    pos = seg.emit(afterLastNewline, into: &out)
                    continue
                }
                // \s+(?!\S)
                if spaces > 1 && pos + spaces < end {
                    pos = seg.emit(pos + spaces - 1, into: &out)
                    continue
                }
                // \s+
                if spaces > 0 {
                    pos = seg.emit(pos + spaces, into: &out)
                    continue
                }
                pos = seg.emit(pos + 1, into: &out)
            }
        }
        return out
    }

    @inline(__always)
    private static func asciiLower(_ c: UInt32) -> UInt32 {
        (c >= 0x41 && c <= 0x5A) ? c + 0x20 : c
    }
}

private let apostrophe: UInt32 = 0x27, space: UInt32 = 0x20, cr: UInt32 = 0x0D, lf: UInt32 = 0x0A
private let s_: UInt32 = 0x73, t_: UInt32 = 0x74, m_: UInt32 = 0x6D, d_: UInt32 = 0x64
private let r_: UInt32 = 0x72, v_: UInt32 = 0x76, e_: UInt32 = 0x65, l_: UInt32 = 0x6C

/// Class flags of every code point of a text, computed once per text.
struct CodepointFlags {
    /// Low byte: CodepointClass; bit 8: White_Space. Zero means "outside the segment".
    let packed: [UInt16]

    init(_ cpts: [UInt32], tables: UnicodeTables = .llamaCpp) {
        packed = cpts.map { c in
            UInt16(CodepointClass.of(c, tables: tables).rawValue) | (CodepointClass.isWhitespace(c) ? 0x100 : 0)
        }
    }

    @inline(__always) func isNumber(_ i: Int) -> Bool { Flag(packed[i]).isNumber }
}

/// One code point's flags as the scanners test them.
struct Flag {
    let raw: UInt16
    @inline(__always) init(_ raw: UInt16) { self.raw = raw }
    @inline(__always) var isLetter: Bool { raw & UInt16(CodepointClass.letter.rawValue) != 0 }
    @inline(__always) var isNumber: Bool { raw & UInt16(CodepointClass.number.rawValue) != 0 }
    @inline(__always) var isWhitespace: Bool { raw & 0x100 != 0 }
    /// llama.cpp's `as_uint() != 0`: any code point inside the segment has some flag set.
    @inline(__always) var isInRange: Bool { raw != 0 }
    /// Neither whitespace, letter nor number (may be outside the segment).
    @inline(__always) var isNotWordOrSpace: Bool {
        raw & (0x100 | UInt16(CodepointClass.letter.rawValue | CodepointClass.number.rawValue)) == 0
    }
    /// [^\s\p{L}\p{N}] for a code point inside the segment.
    @inline(__always) var isOther: Bool { isNotWordOrSpace && isInRange }
}

/// The scanners' view of one segment: flags read as zero outside [ini, end), and words are emitted
/// as lengths from the end of the previous word.
struct Segment {
    let flags: CodepointFlags
    let ini: Int
    let end: Int
    private var previousEnd: Int

    init(flags: CodepointFlags, ini: Int, end: Int) {
        self.flags = flags
        self.ini = ini
        self.end = end
        self.previousEnd = ini
    }

    @inline(__always)
    func at(_ i: Int) -> Flag {
        (i >= ini && i < end) ? Flag(flags.packed[i]) : Flag(0)
    }

    /// Ends the current word at `position` (empty words are dropped) and returns `position`.
    @inline(__always)
    mutating func emit(_ position: Int, into out: inout [Int]) -> Int {
        let p = min(max(position, previousEnd), end)
        if p > previousEnd { out.append(p - previousEnd) }
        previousEnd = p
        return p
    }
}
