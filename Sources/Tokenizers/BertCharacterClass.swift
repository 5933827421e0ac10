// The Unicode classes of Hugging Face's BertNormalizer and BertPreTokenizer, as `tokenizers`
// 0.23.3 computes them. Three libraries meet there:
//
// - Rust's standard library (current Unicode) for `char::is_whitespace` (the White_Space
//   property) and `char::to_lowercase`; Swift's Unicode data agrees for every code point.
// - The `unicode_categories` crate for "other" (control), "nonspacing mark" (accent stripping) and
//   "punctuation". Its tables are from Unicode 8.0, so a character assigned later is none of
//   these, and a handful of characters whose category has changed since keep their 8.0 one.
//   "Other" there is Cc, Cf and Co: unassigned code points are not removed.
// - The `unicode-normalization` crate for NFD, whose data (as built into `tokenizers` 0.23.3) is
//   from Unicode 9.0: a character assigned later neither decomposes (U+11938 stays whole) nor
//   takes part in canonical reordering (its combining class counts as 0).
//
// So: a category from Swift's Unicode data counts only for characters of age 8.0 or earlier, with
// the six exceptions listed below, and a decomposition or combining class only for characters of
// age 9.0 or earlier. Checked over every code point against `tokenizers` 0.23.3 (normalizer output
// and pre-tokenizer split of each single character), and for reordering with a mark of every
// combining class and age after U+0301; the golden test keeps checking the first through a digest
// of that table (scripts/make_wordpiece_golden.py).

import Foundation

/// The classes of one code point, as flags.
struct BertCharacterClass: OptionSet, Sendable {
    let rawValue: UInt8

    /// Dropped by clean_text: NUL, U+FFFD, and Cc/Cf/Co (8.0) other than tab, newline and return.
    static let removed = BertCharacterClass(rawValue: 1 << 0)
    /// Turned into a space by clean_text: tab, newline, return and White_Space characters.
    static let cleanedToSpace = BertCharacterClass(rawValue: 1 << 1)
    /// Surrounded by spaces by handle_chinese_chars (the CJK ideograph blocks).
    static let chinese = BertCharacterClass(rawValue: 1 << 2)
    /// Dropped after NFD by strip_accents: Mn (8.0).
    static let nonspacingMark = BertCharacterClass(rawValue: 1 << 3)
    /// Split off as a word of its own by the pre-tokenizer: ASCII punctuation (symbols such as
    /// `$`, `+` and `^` included) and P* (8.0).
    static let punctuation = BertCharacterClass(rawValue: 1 << 4)
    /// Separates words in the pre-tokenizer (White_Space).
    static let whitespace = BertCharacterClass(rawValue: 1 << 5)
    /// Has a lowercase mapping other than itself (Changes_When_Lowercased, which agrees with
    /// comparing `lowercaseMapping` to the character for every code point).
    static let changesWhenLowercased = BertCharacterClass(rawValue: 1 << 6)
    /// Has a canonical decomposition (in Unicode 9.0).
    static let decomposes = BertCharacterClass(rawValue: 1 << 7)

    @inline(__always)
    static func of(_ scalar: Unicode.Scalar) -> BertCharacterClass {
        let c = Int(scalar.value)
        switch c {
        case ..<0x10000: return BertCharacterClass(rawValue: basicPlane[c])
        case ..<0x20000: return BertCharacterClass(rawValue: supplementaryPlane[c - 0x10000])
        case ..<0x40000: return BertCharacterClass(rawValue: ideographicPlanes[c - 0x20000])
        // Nothing from U+40000 on decomposes in Unicode 9.0.
        default: return compute(scalar, decomposes: false)
        }
    }

    /// Planes 0 to 3 are looked up in tables (each built when first needed), because asking
    /// Swift's Unicode data for every character of a long text is slow.
    private static let basicPlane = table(0..<0x10000)
    private static let supplementaryPlane = table(0x10000..<0x20000)
    private static let ideographicPlanes = table(0x20000..<0x40000)

    private static func table(_ range: Range<UInt32>) -> [UInt8] {
        let scalars = range.compactMap(Unicode.Scalar.init)   // all but the surrogates
        let decomposing = decomposingScalars(scalars.filter { !$0.isASCII && isAssigned($0, by: 9) })
        var t = [UInt8](repeating: 0, count: range.count)
        for s in scalars {
            t[Int(s.value - range.lowerBound)] = compute(s, decomposes: decomposing.contains(s.value)).rawValue
        }
        return t
    }

    /// Which of `scalars` have a canonical decomposition. One NFD of them all, each followed by a
    /// newline (a starter: no mark moves across it), read back piece by piece: much faster than
    /// one Foundation call per character.
    private static func decomposingScalars(_ scalars: [Unicode.Scalar]) -> Set<UInt32> {
        var text = String.UnicodeScalarView()
        for s in scalars {
            text.append(s)
            text.append("\n")
        }
        let pieces = String(text).decomposedStringWithCanonicalMapping.unicodeScalars
            .split(separator: "\n", omittingEmptySubsequences: false)
        var result = Set<UInt32>()
        for (s, piece) in zip(scalars, pieces) where !piece.elementsEqual(CollectionOfOne(s)) {
            result.insert(s.value)
        }
        return result
    }

    /// Characters whose category in Unicode 8.0 differs from the current one.
    private static let punctuationIn8: Set<UInt32> = [
        0x166D,     // CANADIAN SYLLABICS CHI SIGN: Po then, So now
        0x111C9,    // SHARADA SANDHI MARK: Po then, Mn now
    ]
    private static let nonspacingMarkIn8: Set<UInt32> = [
        0x1734,     // HANUNOO SIGN PAMUDPOD: Mn then, Mc now
        0x1171E,    // AHOM CONSONANT SIGN MEDIAL RA: Mn then, Mc now
    ]
    private static let notNonspacingMarkIn8: Set<UInt32> = [
        0x1885, 0x1886,  // MONGOLIAN LETTER ALI GALI BALUDA, THREE BALUDA: Lo then, Mn now
        0xA9BD,          // JAVANESE CONSONANT SIGN KERET: Mc then, Mn now
        0x111C9,         // SHARADA SANDHI MARK: Po then, Mn now
    ]

    /// The canonical combining class HF's NFD sorts by: 0 for characters newer than Unicode 9.0.
    static func combiningClass(_ scalar: Unicode.Scalar) -> UInt8 {
        if scalar.isASCII || !isAssigned(scalar, by: 9) { return 0 }
        return scalar.properties.canonicalCombiningClass.rawValue
    }

    /// Whether `scalar` was assigned in Unicode `major`.0 or earlier.
    private static func isAssigned(_ scalar: Unicode.Scalar, by major: Int) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < major || (age.major == major && age.minor == 0)
    }

    private static func compute(_ scalar: Unicode.Scalar, decomposes: Bool) -> BertCharacterClass {
        let c = scalar.value
        let props = scalar.properties
        var flags: BertCharacterClass = []
        let in8 = isAssigned(scalar, by: 8)

        let isTabOrNewline = c == 0x09 || c == 0x0A || c == 0x0D
        switch props.generalCategory {
        case .control, .format, .privateUse:
            if in8 && !isTabOrNewline { flags.insert(.removed) }
        case .nonspacingMark:
            if in8 && !notNonspacingMarkIn8.contains(c) { flags.insert(.nonspacingMark) }
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            if in8 { flags.insert(.punctuation) }
        default:
            break
        }
        if c == 0 || c == 0xFFFD { flags.insert(.removed) }
        if nonspacingMarkIn8.contains(c) { flags.insert(.nonspacingMark) }
        if punctuationIn8.contains(c) || isASCIIPunctuation(c) { flags.insert(.punctuation) }
        if props.isWhitespace { flags.insert(.whitespace) }
        if props.isWhitespace || isTabOrNewline { flags.insert(.cleanedToSpace) }
        if isChinese(c) { flags.insert(.chinese) }
        if props.changesWhenLowercased { flags.insert(.changesWhenLowercased) }
        if decomposes { flags.insert(.decomposes) }
        return flags
    }

    /// Rust's `char::is_ascii_punctuation`: every printable ASCII character that is not a letter,
    /// a digit or the space.
    private static func isASCIIPunctuation(_ c: UInt32) -> Bool {
        (0x21...0x2F).contains(c) || (0x3A...0x40).contains(c) || (0x5B...0x60).contains(c) || (0x7B...0x7E).contains(c)
    }

    /// The ideograph blocks of HF's `is_chinese_char`. The fifth range starts at U+2B920 there,
    /// not at U+2B820 as in Google's original BERT.
    private static func isChinese(_ c: UInt32) -> Bool {
        switch c {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
