// Tokens inside a tag, following jinja2's rules in its order (float, integer, name, string,
// operator): `1_000`, `0x1F`, `0o17`, `0b101`, `1.5e-3` (a number right after a `.` is never a
// float, so `x.0.1` is two subscripts), ASCII names, quoted strings with Python's escapes, and the
// operators longest first.

extension Lexer {
    static func isNameByte(_ b: UInt8) -> Bool {
        isNameStart(b) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }

    static func isNameStart(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || b == UInt8(ascii: "_")
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private static let operators = ["//", "**", "==", "!=", "<=", ">=",
                                    "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}",
                                    "<", ">", "=", ".", ":", "|", ",", ";"]

    mutating func lexToken() throws -> Token {
        let start = pos
        let b = bytes[pos]
        if Self.isDigit(b) {
            if !(start > 0 && bytes[start - 1] == UInt8(ascii: ".")), let end = floatEnd(from: start) {
                pos = end
                let digits = String(decoding: bytes[start..<end].filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
                guard let d = Double(digits) else { throw syntaxError("invalid number '\(digits)'", at: start) }
                return Token(kind: .float(d), offset: start)
            }
            return Token(kind: .integer(try lexInteger()), offset: start)
        }
        if Self.isNameStart(b) {
            while pos < bytes.count && Self.isNameByte(bytes[pos]) { pos += 1 }
            return Token(kind: .name(String(decoding: bytes[start..<pos], as: UTF8.self)), offset: start)
        }
        if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") {
            return Token(kind: .string(try lexString()), offset: start)
        }
        for o in Self.operators where bytes.count - pos >= o.utf8.count && bytes[pos..<pos + o.utf8.count].elementsEqual(o.utf8) {
            pos += o.utf8.count
            return Token(kind: .op(o), offset: start)
        }
        let (scalar, _) = UTF8Scanning.scalar(at: pos, in: bytes)
        if !scalar.isASCII && scalar.properties.isAlphabetic {
            throw TemplateError.unsupported("non-ASCII names ('\(Character(scalar))')", at: source.location(of: start))
        }
        throw syntaxError("unexpected character '\(Character(scalar))'", at: start)
    }

    /// Digits with single underscores between them; returns the end, or nil if none.
    private func digitsEnd(from i: Int, radix: Int = 10) -> Int? {
        func isRadixDigit(_ b: UInt8) -> Bool {
            switch radix {
            case 2: return b == UInt8(ascii: "0") || b == UInt8(ascii: "1")
            case 8: return b >= UInt8(ascii: "0") && b <= UInt8(ascii: "7")
            case 16: return Self.isDigit(b) || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "f"))
            default: return Self.isDigit(b)
            }
        }
        var j = i
        guard j < bytes.count, isRadixDigit(bytes[j]) else { return nil }
        while j < bytes.count {
            if isRadixDigit(bytes[j]) {
                j += 1
            } else if bytes[j] == UInt8(ascii: "_") && j + 1 < bytes.count && isRadixDigit(bytes[j + 1]) {
                j += 2
            } else {
                break
            }
        }
        return j
    }

    /// jinja2's float: digits, then a fraction and/or an exponent (at least one of them).
    private func floatEnd(from start: Int) -> Int? {
        guard var i = digitsEnd(from: start) else { return nil }
        var isFloat = false
        if i < bytes.count && bytes[i] == UInt8(ascii: "."), let f = digitsEnd(from: i + 1) {
            i = f
            isFloat = true
        }
        if i < bytes.count && bytes[i] | 0x20 == UInt8(ascii: "e") {
            var j = i + 1
            if j < bytes.count && (bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-")) { j += 1 }
            if let e = digitsEnd(from: j) {
                i = e
                isFloat = true
            }
        }
        return isFloat ? i : nil
    }

    private mutating func lexInteger() throws -> Int {
        let start = pos
        let prefixes: [UInt8: Int] = [UInt8(ascii: "b"): 2, UInt8(ascii: "o"): 8, UInt8(ascii: "x"): 16]
        if bytes[pos] == UInt8(ascii: "0") && pos + 1 < bytes.count, let radix = prefixes[bytes[pos + 1] | 0x20] {
            // Python allows an underscore right after the prefix: 0x_1F.
            var digitsStart = pos + 2
            if digitsStart < bytes.count && bytes[digitsStart] == UInt8(ascii: "_") { digitsStart += 1 }
            if let end = digitsEnd(from: digitsStart, radix: radix) {
                pos = end
                return try integer(digitsStart..<end, radix: radix, literalStart: start)
            }
        }
        if bytes[pos] == UInt8(ascii: "0") {
            // `0`, `00`, `0_0`: jinja2 reads no further, so `012` is two integers.
            pos += 1
            while pos < bytes.count {
                if bytes[pos] == UInt8(ascii: "0") {
                    pos += 1
                } else if bytes[pos] == UInt8(ascii: "_") && pos + 1 < bytes.count && bytes[pos + 1] == UInt8(ascii: "0") {
                    pos += 2
                } else {
                    break
                }
            }
            return 0
        }
        let end = digitsEnd(from: pos) ?? pos + 1
        pos = end
        return try integer(start..<end, radix: 10, literalStart: start)
    }

    private func integer(_ range: Range<Int>, radix: Int, literalStart: Int) throws -> Int {
        let digits = String(decoding: bytes[range].filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
        guard let value = Int(digits, radix: radix) else {
            throw TemplateError.unsupported("integer literals beyond 64 bits", at: source.location(of: literalStart))
        }
        return value
    }

    /// A quoted string. jinja2 decodes escapes with Python's unicode-escape codec (after turning
    /// non-ASCII characters into `\x`/`\u`/`\U` escapes), so unknown escapes such as `\d` stay as
    /// written and `\` before a non-ASCII character keeps that escape's spelling.
    private mutating func lexString() throws -> String {
        let start = pos
        let quote = bytes[pos]
        pos += 1
        var out = String.UnicodeScalarView()
        while true {
            guard pos < bytes.count else { throw syntaxError("unterminated string", at: start) }
            let (scalar, length) = UTF8Scanning.scalar(at: pos, in: bytes)
            if scalar.value == UInt32(quote) {
                pos += 1
                return String(out)
            }
            if scalar != "\\" {
                out.append(scalar)
                pos += length
                continue
            }
            guard pos + 1 < bytes.count else { throw syntaxError("unterminated string", at: start) }
            pos += 1
            try lexEscape(into: &out, stringStart: start)
        }
    }

    /// One escape, `pos` just after the backslash.
    private mutating func lexEscape(into out: inout String.UnicodeScalarView, stringStart: Int) throws {
        let (c, length) = UTF8Scanning.scalar(at: pos, in: bytes)
        let simple: [Unicode.Scalar: Unicode.Scalar] = [
            "\\": "\\", "'": "'", "\"": "\"", "a": "\u{07}", "b": "\u{08}", "f": "\u{0C}",
            "n": "\n", "r": "\r", "t": "\t", "v": "\u{0B}",
        ]
        if c == "\n" {
            pos += 1   // a backslash before a newline continues the line
            return
        }
        if let s = simple[c] {
            out.append(s)
            pos += 1
            return
        }
        if c.value >= 0x30 && c.value <= 0x37 {
            var value: UInt32 = 0
            var n = 0
            while n < 3 && pos < bytes.count && bytes[pos] >= UInt8(ascii: "0") && bytes[pos] <= UInt8(ascii: "7") {
                value = value * 8 + UInt32(bytes[pos] - UInt8(ascii: "0"))
                pos += 1
                n += 1
            }
            if let scalar = Unicode.Scalar(value) { out.append(scalar) }   // at most 0o777, always valid
            return
        }
        let hexDigits: [Unicode.Scalar: Int] = ["x": 2, "u": 4, "U": 8]
        if let count = hexDigits[c] {
            let digitsStart = pos + 1
            let end = digitsStart + count
            guard end <= bytes.count,
                  let value = UInt32(String(decoding: bytes[digitsStart..<end], as: UTF8.self), radix: 16),
                  bytes[digitsStart..<end].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }) else {
                throw syntaxError("truncated \\\(c) escape in string", at: pos - 1)
            }
            guard let scalar = Unicode.Scalar(value) else {
                let what = (0xD800...0xDFFF).contains(value) ? "a lone surrogate escape" : "an escape beyond U+10FFFF"
                throw TemplateError.unsupported("\(what) in a string literal", at: source.location(of: pos - 1))
            }
            out.append(scalar)
            pos = end
            return
        }
        if c == "N" {
            throw TemplateError.unsupported("\\N{...} escapes in string literals", at: source.location(of: pos - 1))
        }
        // Unknown escape: Python keeps the backslash. Non-ASCII characters had been rewritten
        // as their own escape first, so that spelling is what stays.
        out.append("\\")
        if c.isASCII {
            out.append(c)
        } else {
            let hex = String(c.value, radix: 16)
            let spelled = c.value <= 0xFF ? "x" + pad(hex, 2) : c.value <= 0xFFFF ? "u" + pad(hex, 4) : "U" + pad(hex, 8)
            out.append(contentsOf: spelled.unicodeScalars)
        }
        pos += length

        func pad(_ s: String, _ n: Int) -> String { String(repeating: "0", count: max(0, n - s.count)) + s }
    }
}
