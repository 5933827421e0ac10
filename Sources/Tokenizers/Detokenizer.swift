// Token ids back to bytes, as llama.cpp's token_to_piece and detokenize do: special and
// user-defined tokens render as their text, normal tokens as their text with the vocabulary's
// space marker or byte alphabet undone, byte tokens as their byte. The streaming detokenizer
// releases text only at whole UTF-8 characters, so a client never sees half an emoji.

/// How a token renders, per llama.cpp's token_to_piece with special = true.
extension Vocabulary {
    func piece(_ id: Int32) -> [UInt8]? {
        guard id >= 0, Int(id) < count else { return nil }
        let attr = attributes[Int(id)]
        let text = texts.text(Int(id))
        if !attr.isDisjoint(with: [.unknown, .control, .userDefined]) {
            return Array(text)
        }
        if attr.contains(.normal) {
            switch kind {
            case .spm:
                return Self.unescapeWhitespace(text)
            case .bpe:
                return ByteLevel.decode(Array(text))
            }
        }
        if attr.contains(.byte) {
            return [Self.byteValue(of: text)]
        }
        // Unused and undefined tokens render as nothing.
        return []
    }

    /// U+2581 -> space.
    static func unescapeWhitespace(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == 0xE2, i + 2 < text.endIndex, text[i + 1] == 0x96, text[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }

    /// The byte of a "<0xXX>" token: the hex digits at offsets 3 and 4 (llama.cpp parses them with
    /// strtol, so a malformed text gives the value of its leading hex digits, or 0).
    static func byteValue(of text: ArraySlice<UInt8>) -> UInt8 {
        var value = 0
        var i = text.startIndex + 3
        while i < min(text.startIndex + 5, text.endIndex) {
            let c = text[i]
            let digit: Int
            switch c {
            case 0x30...0x39: digit = Int(c) - 0x30
            case 0x41...0x46: digit = Int(c) - 0x41 + 10
            case 0x61...0x66: digit = Int(c) - 0x61 + 10
            default: return UInt8(truncatingIfNeeded: value)
            }
            value = value * 16 + digit
            i += 1
        }
        return UInt8(truncatingIfNeeded: value)
    }

    /// llama.cpp's detokenize: `removeSpecial` drops a leading BOS and trailing EOS that the
    /// vocabulary adds; `unparseSpecial` false renders control and unknown tokens as nothing.
    /// Invalid ids render as nothing (llama.cpp would abort).
    func detokenize(_ tokens: [Int32], removeSpecial: Bool, unparseSpecial: Bool) -> [UInt8] {
        var slice = tokens[...]
        var removeSpace = addSpacePrefix
        if removeSpecial && addBOS, let first = slice.first, first == bos {
            removeSpace = false
            slice = slice.dropFirst()
        }
        if removeSpecial && addEOS, let last = slice.last, last == eos {
            slice = slice.dropLast()
        }
        var out: [UInt8] = []
        for t in slice {
            defer { removeSpace = false }
            if !unparseSpecial && !attributes(of: t).isDisjoint(with: [.unknown, .control]) { continue }
            guard var p = piece(t) else { continue }
            if removeSpace, p.first == 0x20 { p.removeFirst() }
            out.append(contentsOf: p)
        }
        return cleanSpaces ? Self.cleanUpSpaces(out) : out
    }

    /// clean_up_tokenization_spaces, in llama.cpp's three passes over the bytes.
    static func cleanUpSpaces(_ input: [UInt8]) -> [UInt8] {
        let space = UInt8(ascii: " "), quote = UInt8(ascii: "'")
        guard input.count > 1 else { return input }
        // 1: " ?", " !", " .", " ," lose the space.
        var a: [UInt8] = [input[0]]
        for i in 1..<input.count {
            let x = input[i]
            if input[i - 1] == space && (x == UInt8(ascii: "?") || x == UInt8(ascii: "!") || x == UInt8(ascii: ".") || x == UInt8(ascii: ",")) {
                a.removeLast()
            }
            a.append(x)
        }
        // 2: " ' " becomes "'". The space after it is skipped and cannot count as a space before
        // the next character (llama.cpp overwrites it with NUL).
        var b: [UInt8] = a.isEmpty ? [] : [a[0]]
        var i = 1
        var skipped = -1
        while i < a.count {
            let x = a[i]
            let prevIsSpace = skipped != i - 1 && a[i - 1] == space
            if x == quote && i + 1 < a.count && prevIsSpace && a[i + 1] == space {
                b.removeLast()
                b.append(x)
                skipped = i + 1
                i += 2
                continue
            }
            b.append(x)
            i += 1
        }
        // 3: " 's", " 'm", " 're", " 've" lose the space.
        guard b.count > 1 else { return b }
        var c: [UInt8] = [b[0]]
        for i in 1..<b.count {
            let x = b[i]
            if b[i - 1] == space && x == quote && i + 1 < b.count {
                let x1 = b[i + 1]
                if x1 == UInt8(ascii: "s") || x1 == UInt8(ascii: "m") {
                    c.removeLast()
                } else if x1 != UInt8(ascii: "t") && x1 != UInt8(ascii: "d") && i + 2 < b.count {
                    let x2 = b[i + 2]
                    if (x1 == UInt8(ascii: "r") || x1 == UInt8(ascii: "v")) && x2 == UInt8(ascii: "e") {
                        c.removeLast()
                    }
                }
            }
            c.append(x)
        }
        return c
    }
}

/// Turns a stream of generated tokens into text, one call per token, releasing only complete
/// UTF-8 characters. The concatenation of every `push` and the final `flush` equals
/// `tokenizer.decode(allTokens)` (for vocabularies without space clean-up, which needs look-ahead:
/// none of the supported models uses it).
public struct StreamingDetokenizer {
    private let tokenizer: Tokenizer
    private var pending: [UInt8] = []
    private var first = true

    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// Adds one token; returns the text that is now complete (possibly empty).
    public mutating func push(_ token: Int32) -> String {
        var p = tokenizer.vocabulary.piece(token) ?? []
        if first && tokenizer.vocabulary.addSpacePrefix && p.first == 0x20 { p.removeFirst() }
        first = false
        pending.append(contentsOf: p)
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Returns whatever is left; incomplete characters become U+FFFD.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the prefix that can be decoded now: everything except a trailing sequence that is
    /// a valid but unfinished UTF-8 character. Bytes that can never complete are released (as
    /// U+FFFD), so decoding the parts separately gives the same text as decoding the whole.
    public static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // An unfinished character starts at most 3 bytes from the end.
        var start = n - 1
        while start >= 0 && start >= n - 3 {
            let b = bytes[start]
            if b & 0xC0 != 0x80 {
                // A lead byte (or ASCII): is bytes[start...] an unfinished valid sequence?
                let need: Int
                switch b {
                case 0xC2...0xDF: need = 2
                case 0xE0...0xEF: need = 3
                case 0xF0...0xF4: need = 4
                default: return n
                }
                let have = n - start
                guard have < need else { return n }
                for k in 1..<have {
                    let c = bytes[start + k]
                    var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
                    if k == 1 {
                        // Second-byte limits that rule out overlong forms, surrogates and > U+10FFFF.
                        switch b {
                        case 0xE0: lo = 0xA0
                        case 0xED: hi = 0x9F
                        case 0xF0: lo = 0x90
                        case 0xF4: hi = 0x8F
                        default: break
                        }
                    }
                    if c < lo || c > hi { return n }
                }
                return start
            }
            start -= 1
        }
        return n
    }
}
