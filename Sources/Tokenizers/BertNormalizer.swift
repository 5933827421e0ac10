// Hugging Face's BertNormalizer: clean_text, handle_chinese_chars, strip_accents, lowercase, in
// that order, each over the whole text. The character classes are in BertCharacterClass.swift.

import Foundation

/// The normalizer of BERT-style tokenizer.json files.
struct BertNormalizer: Sendable, Equatable {
    /// Drop control characters (and NUL, U+FFFD); turn every kind of whitespace into a space.
    var cleanText: Bool
    /// Put spaces around CJK ideographs, so each becomes a word of its own.
    var handleChineseChars: Bool
    /// Decompose (NFD) and drop nonspacing marks.
    var stripAccents: Bool
    var lowercase: Bool

    func normalize(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var text: [Unicode.Scalar] = []
        text.reserveCapacity(input.count)
        var ascii = true
        // clean_text and handle_chinese_chars look at one character at a time: one pass does both.
        for scalar in input {
            let cls = BertCharacterClass.of(scalar)
            if cleanText {
                if cls.contains(.removed) { continue }
                if cls.contains(.cleanedToSpace) {
                    text.append(" ")
                    continue
                }
            }
            if handleChineseChars && cls.contains(.chinese) {
                text += [" ", scalar, " "]
            } else {
                text.append(scalar)
            }
            ascii = ascii && scalar.isASCII
        }
        if stripAccents && !ascii { text = stripNonspacingMarks(text) }
        if lowercase { text = lowercased(text) }
        return text
    }

    /// NFD, then every nonspacing mark dropped. NFD is each character's canonical decomposition
    /// (Foundation's `decomposedStringWithCanonicalMapping` of that one character), then the
    /// canonical ordering of each run of combining marks, with Unicode 9.0 data as HF has it (see
    /// BertCharacterClass.swift). Marks are dropped after reordering: a mark of class 0 ends a run.
    private func stripNonspacingMarks(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var decomposed: [Unicode.Scalar] = []
        decomposed.reserveCapacity(text.count)
        for scalar in text {
            if BertCharacterClass.of(scalar).contains(.decomposes) {
                decomposed += String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars
            } else {
                decomposed.append(scalar)
            }
        }
        // Canonical ordering: a stable sort of each run of non-starters by combining class,
        // here an insertion sort (runs are short).
        for i in decomposed.indices {
            let cls = BertCharacterClass.combiningClass(decomposed[i])
            guard cls != 0 else { continue }
            var j = i
            while j > 0, BertCharacterClass.combiningClass(decomposed[j - 1]) > cls {
                decomposed.swapAt(j - 1, j)
                j -= 1
            }
        }
        return decomposed.filter { !BertCharacterClass.of($0).contains(.nonspacingMark) }
    }

    /// Each character's full lowercase mapping, without context (Rust's `char::to_lowercase`):
    /// "İ" becomes "i̇" and a final "Σ" becomes "σ", not "ς".
    private func lowercased(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for scalar in text {
            if scalar.isASCII {
                let v = scalar.value
                out.append((0x41...0x5A).contains(v) ? Unicode.Scalar(UInt8(v + 0x20)) : scalar)
            } else if BertCharacterClass.of(scalar).contains(.changesWhenLowercased) {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return out
    }
}
