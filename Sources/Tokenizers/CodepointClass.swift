// Unicode classes the pre-tokenizers need (\p{L}, \p{N}, \s and "has a category at all"), from
// Swift's own Unicode data. llama.cpp carries a generated table (unicode-data.cpp) built from
// Unicode 15.1; Swift's stdlib is newer, and the only differences are scalars assigned in Unicode
// 16 or later, which llama.cpp sees as unassigned. We therefore treat any scalar whose
// `properties.age` is after 15.1 as unassigned. Checked over all 0x110000 code points against
// llama.cpp's table: with that rule the categories agree everywhere. Hugging Face `tokenizers`
// runs its regexes with Oniguruma, whose tables are Unicode 16.0: the same rule with that cutoff
// (`UnicodeTables.oniguruma`) agrees with it on every code point.

/// The category flags of one code point, as llama.cpp's pre-tokenizers test them.
struct CodepointClass: OptionSet, Sendable {
    let rawValue: UInt8

    static let undefined = CodepointClass(rawValue: 1 << 0)   // Cn, and scalars newer than 15.1
    static let number = CodepointClass(rawValue: 1 << 1)      // \p{N}
    static let letter = CodepointClass(rawValue: 1 << 2)      // \p{L}
    static let separator = CodepointClass(rawValue: 1 << 3)   // \p{Z}
    static let mark = CodepointClass(rawValue: 1 << 4)        // \p{M}
    static let punctuation = CodepointClass(rawValue: 1 << 5) // \p{P}
    static let symbol = CodepointClass(rawValue: 1 << 6)      // \p{S}
    static let control = CodepointClass(rawValue: 1 << 7)     // \p{C} (Cc, Cf, Co, Cs)

    /// The White_Space property is a separate bit in llama.cpp; we keep it in a separate table.
    static func isWhitespace(_ c: UInt32) -> Bool {
        switch c {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// The class of a code point. Values past U+10FFFF are "undefined", as in llama.cpp.
    @inline(__always)
    static func of(_ c: UInt32, tables: UnicodeTables = .llamaCpp) -> CodepointClass {
        if c < 0x10000 {
            switch tables {
            case .llamaCpp: return CodepointClass(rawValue: bmpTable[Int(c)])
            case .oniguruma: return CodepointClass(rawValue: onigurumaBMPTable[Int(c)])
            }
        }
        return compute(c, tables: tables)
    }

    /// The Basic Multilingual Plane is looked up in a table built once (64 KiB), because
    /// `generalCategory` is too slow to ask for every character of a long prompt.
    private static let bmpTable: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 0x10000)
        for c in 0..<0x10000 { t[c] = compute(UInt32(c), tables: .llamaCpp).rawValue }
        return t
    }()

    private static let onigurumaBMPTable: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 0x10000)
        for c in 0..<0x10000 { t[c] = compute(UInt32(c), tables: .oniguruma).rawValue }
        return t
    }()

    private static func compute(_ c: UInt32, tables: UnicodeTables) -> CodepointClass {
        guard let scalar = Unicode.Scalar(c) else {
            // Surrogate code points are category Cs in llama.cpp's table; above U+10FFFF undefined.
            return (0xD800...0xDFFF).contains(c) ? .control : .undefined
        }
        let props = scalar.properties
        let last = tables.lastVersion
        if let age = props.age, age.major > last.major || (age.major == last.major && age.minor > last.minor) {
            return .undefined
        }
        switch props.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .nonspacingMark, .spacingMark, .enclosingMark:
            return .mark
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return .punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return .symbol
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return .separator
        case .control, .format, .surrogate, .privateUse:
            return .control
        case .unassigned:
            return .undefined
        @unknown default:
            return .undefined
        }
    }
}

/// Whose Unicode data a pre-tokenizer's classes follow: scalars assigned in a later version than
/// the tables' are unassigned to it (so neither letter, number nor whitespace).
enum UnicodeTables: Sendable {
    /// llama.cpp's generated table (unicode-data.cpp): Unicode 15.1.
    case llamaCpp
    /// Oniguruma's, which Hugging Face `tokenizers` 0.23.3 runs its regexes with: Unicode 16.0
    /// (checked over every code point by WhisperTokenizerGoldenTests).
    case oniguruma

    var lastVersion: (major: Int, minor: Int) {
        switch self {
        case .llamaCpp: return (15, 1)
        case .oniguruma: return (16, 0)
        }
    }
}
