// Python's idea of whitespace, over UTF-8 bytes. jinja2's whitespace control strips with
// `str.rstrip()` and the regex `\s`, both of which use `str.isspace()`: beyond ASCII that includes
// U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and U+3000, and the
// ASCII separators U+001C-U+001F. The lexer works on bytes, so these helpers decode scalars from
// valid UTF-8 (the source comes from a Swift String) in either direction.

enum UTF8Scanning {
    /// `str.isspace()` for one scalar.
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// The scalar that starts at `i` and its length in bytes.
    static func scalar(at i: Int, in bytes: [UInt8]) -> (Unicode.Scalar, Int) {
        let b0 = UInt32(bytes[i])
        let length: Int
        var value: UInt32
        switch b0 {
        case 0..<0x80: return (Unicode.Scalar(UInt8(b0)), 1)
        case 0xC0..<0xE0: length = 2; value = b0 & 0x1F
        case 0xE0..<0xF0: length = 3; value = b0 & 0x0F
        default: length = 4; value = b0 & 0x07
        }
        for k in 1..<length where i + k < bytes.count {
            value = value << 6 | UInt32(bytes[i + k] & 0x3F)
        }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }

    /// The start of the scalar that ends just before `end`.
    static func previousScalarStart(before end: Int, in bytes: [UInt8]) -> Int {
        var i = end - 1
        while i > 0 && bytes[i] & 0xC0 == 0x80 { i -= 1 }
        return i
    }

    /// The first offset in `start..<end` from which only whitespace remains (`str.rstrip()`).
    static func trailingSpaceStart(_ bytes: [UInt8], from start: Int, to end: Int) -> Int {
        var i = end
        while i > start {
            let p = previousScalarStart(before: i, in: bytes)
            guard isSpace(scalar(at: p, in: bytes).0) else { break }
            i = p
        }
        return i
    }

    /// The first offset at or after `start` that is not whitespace (the regex `\s*`).
    static func skipSpace(_ bytes: [UInt8], from start: Int) -> Int {
        var i = start
        while i < bytes.count {
            let (s, n) = scalar(at: i, in: bytes)
            guard isSpace(s) else { break }
            i += n
        }
        return i
    }
}
