// Python's int() and float() of a string, for the `int` and `float` filters: surrounding
// whitespace allowed, single underscores between digits, `inf`/`nan` for floats, and nothing
// else (Swift's own parsers also take hex floats and other forms Python refuses).

enum PythonNumbers {
    static func parseInt(_ s: String) -> Int? {
        var bytes = Array(PythonString.strip(s, chars: nil).utf8)
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            bytes.removeFirst()
        }
        guard let digits = digitsWithoutUnderscores(bytes[...]), !digits.isEmpty else { return nil }
        return Int((negative ? "-" : "") + digits)
    }

    static func parseFloat(_ s: String) -> Double? {
        let text = PythonString.strip(s, chars: nil)
        var bytes = Array(text.utf8)[...]
        var sign = ""
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            sign = first == UInt8(ascii: "-") ? "-" : ""
            bytes = bytes.dropFirst()
        }
        switch String(decoding: bytes, as: UTF8.self).lowercased() {
        case "inf", "infinity": return sign == "-" ? -.infinity : .infinity
        case "nan": return .nan
        default: break
        }
        // mantissa: digits [. [digits]] or . digits; then optional e[sign]digits.
        var mantissaEnd = bytes.startIndex
        while mantissaEnd < bytes.endIndex && bytes[mantissaEnd] | 0x20 != UInt8(ascii: "e") { mantissaEnd += 1 }
        let mantissa = bytes[..<mantissaEnd]
        let parts = mantissa.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count <= 2, mantissa.filter({ $0 == UInt8(ascii: ".") }).count <= 1 else { return nil }
        guard let whole = digitsWithoutUnderscores(parts[0]),
              let fraction = parts.count == 2 ? digitsWithoutUnderscores(parts[1]) : "",
              !(whole.isEmpty && fraction.isEmpty) else { return nil }
        var exponent = ""
        if mantissaEnd < bytes.endIndex {
            var e = bytes[(mantissaEnd + 1)...]
            var expSign = ""
            if let first = e.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
                expSign = first == UInt8(ascii: "-") ? "-" : "+"
                e = e.dropFirst()
            }
            guard let digits = digitsWithoutUnderscores(e), !digits.isEmpty else { return nil }
            exponent = "e" + expSign + digits
        }
        return Double(sign + (whole.isEmpty ? "0" : whole) + "." + (fraction.isEmpty ? "0" : fraction) + exponent)
    }

    /// ASCII digits with single underscores only between digits, underscores removed; nil
    /// otherwise. An empty input gives "".
    private static func digitsWithoutUnderscores(_ bytes: ArraySlice<UInt8>) -> String? {
        var out = ""
        var previousDigit = false
        for (k, b) in bytes.enumerated() {
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                out.append(Character(Unicode.Scalar(b)))
                previousDigit = true
            } else if b == UInt8(ascii: "_") && previousDigit && k + 1 < bytes.count {
                previousDigit = false
            } else {
                return nil
            }
        }
        return previousDigit || out.isEmpty ? out : nil
    }
}
