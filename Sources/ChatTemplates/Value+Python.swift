// Python's str(), repr(), == and < for template values, which decide what `{{ x }}` prints and
// how comparisons go. Strings compare by Unicode scalars, as Python does (Swift's String `==`
// would treat canonically equivalent strings as equal); floats print as Python's repr
// (shortest round-trip digits, exponent form outside 1e-4 <= |x| < 1e16).

extension Value {
    /// Python's `str(value)`, which jinja2 uses to print `{{ value }}` and for `~`.
    func str() throws -> String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return try repr()
        }
    }

    /// Python's `repr(value)`; objects whose repr shows a memory address are refused, since their
    /// output could never be reproduced.
    func repr() throws -> String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return Self.pythonFloatRepr(d)
        case .string(let s): return Self.pythonStringRepr(s)
        case .list(let a): return "[" + (try a.map { try $0.repr() }.joined(separator: ", ")) + "]"
        case .tuple(let a):
            let inner = try a.map { try $0.repr() }.joined(separator: ", ")
            return a.count == 1 ? "(\(inner),)" : "(\(inner))"
        case .dict(let d): return try Self.dictRepr(d)
        case .namespace(let n): return "<Namespace \(try Self.dictRepr(n.attributes))>"
        case .view(let v): return "\(v.kind.rawValue)([" + (try v.elements.map { try $0.repr() }.joined(separator: ", ")) + "])"
        case .loop(let l): return "<LoopContext \(l.index0 + 1)/\(l.length)>"
        case .generator, .builtin, .method, .macro:
            throw ValueError.unsupported("printing a \(typeName) object (jinja2 prints its memory address)")
        }
    }

    private static func dictRepr(_ d: Dict) throws -> String {
        "{" + (try d.items.map { "\(try $0.0.repr()): \(try $0.1.repr())" }.joined(separator: ", ")) + "}"
    }

    static func pythonStringRepr(_ s: String) -> String {
        let quote: Unicode.Scalar = s.unicodeScalars.contains("'") && !s.unicodeScalars.contains("\"") ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for c in s.unicodeScalars {
            switch c {
            case quote, "\\":
                out.append("\\")
                out.append(c)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            default:
                if isPythonPrintable(c) {
                    out.append(c)
                } else {
                    let hex = String(c.value, radix: 16)
                    let (prefix, width) = c.value <= 0xFF ? ("\\x", 2) : c.value <= 0xFFFF ? ("\\u", 4) : ("\\U", 8)
                    out.append(contentsOf: (prefix + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    /// `str.isprintable()` for one character: not a control, format, surrogate, private-use,
    /// unassigned or separator character, except the ASCII space.
    private static func isPythonPrintable(_ c: Unicode.Scalar) -> Bool {
        if c == " " { return true }
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return true
        }
    }

    /// Python's `repr(float)`: the shortest digits that round-trip (Swift computes the same
    /// digits), laid out in Python's fixed or exponent form.
    static func pythonFloatRepr(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description is either "123.45" or "1.2345e-07"; read its digits and exponent.
        let text = String(d.magnitude.description)
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        var exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        let pointAt = mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count
        var digits = Array(mantissa.filter { $0 != "." })
        exponent += pointAt   // the decimal point sits `exponent` digits into `digits`
        while digits.first == "0" && digits.count > 1 {
            digits.removeFirst()
            exponent -= 1
        }
        while digits.last == "0" && digits.count > 1 { digits.removeLast() }
        let sign = d < 0 ? "-" : ""
        let decimalPoint = exponent
        if decimalPoint > -4 && decimalPoint <= 16 {
            if decimalPoint <= 0 {
                return sign + "0." + String(repeating: "0", count: -decimalPoint) + String(digits)
            }
            if decimalPoint >= digits.count {
                return sign + String(digits) + String(repeating: "0", count: decimalPoint - digits.count) + ".0"
            }
            return sign + String(digits[..<decimalPoint]) + "." + String(digits[decimalPoint...])
        }
        let e = decimalPoint - 1
        let fraction = digits.count > 1 ? "." + String(digits[1...]) : ""
        let magnitude = String(abs(e))
        return sign + String(digits[0]) + fraction + "e" + (e < 0 ? "-" : "+")
            + (magnitude.count < 2 ? "0" : "") + magnitude
    }

    /// Python's `==`. Numbers compare across int, float and bool; Undefined equals only Undefined.
    func pythonEquals(_ other: Value) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
        case (.dict(let a), .dict(let b)):
            return a.count == b.count && a.items.allSatisfy { k, v in b[k].map { $0.pythonEquals(v) } ?? false }
        case (.namespace(let a), .namespace(let b)): return a === b
        case (.generator(let a), .generator(let b)): return a === b
        case (.view(let a), .view(let b)):
            // Key and item views compare as sets; values views only by identity.
            return a.kind == b.kind && a.kind != .values && a.elements.count == b.elements.count
                && a.elements.allSatisfy { x in b.elements.contains { $0.pythonEquals(x) } }
        case (.builtin(let a), .builtin(let b)): return a == b
        default:
            if let (a, b) = Self.numericPair(self, other) { return a == b }
            return false
        }
    }

    /// Both values as numbers when both are (bools count as 0 and 1), exactly for ints.
    static func numericPair(_ a: Value, _ b: Value) -> (Numeric, Numeric)? {
        guard let x = a.numeric, let y = b.numeric else { return nil }
        return (x, y)
    }

    var numeric: Numeric? {
        switch self {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        default: return nil
        }
    }

    /// Python's `<`: numbers, strings (by code point, which UTF-8 byte order preserves), and
    /// lists or tuples element by element; anything else is a TypeError in Python.
    func pythonLess(_ other: Value, symbol: String = "<") throws -> Bool {
        try failIfUndefined()
        try other.failIfUndefined()
        switch (self, other) {
        case (.string(let a), .string(let b)): return a.utf8.lexicographicallyPrecedes(b.utf8)
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            for (x, y) in zip(a, b) where !x.pythonEquals(y) { return try x.pythonLess(y, symbol: symbol) }
            return a.count < b.count
        default:
            if let (a, b) = Self.numericPair(self, other) { return a < b }
            throw ValueError.runtime("'\(symbol)' not supported between instances of '\(typeName)' and '\(other.typeName)'")
        }
    }
}

/// A number as Python sees it in mixed arithmetic: int, or float once a float is involved.
enum Numeric: Equatable, Comparable {
    case int(Int)
    case double(Double)

    var asDouble: Double {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        }
    }

    static func == (a: Numeric, b: Numeric) -> Bool {
        if case .int(let x) = a, case .int(let y) = b { return x == y }
        return exactCompare(a, b) == 0
    }

    static func < (a: Numeric, b: Numeric) -> Bool {
        if case .int(let x) = a, case .int(let y) = b { return x < y }
        return exactCompare(a, b) == -1
    }

    /// Compares an int with a float exactly, as Python does (converting a large int to Double
    /// would round it). Returns -1, 0, 1, or nil when a NaN is involved.
    private static func exactCompare(_ a: Numeric, _ b: Numeric) -> Int? {
        switch (a, b) {
        case (.double(let x), .double(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? -1 : x > y ? 1 : 0
        case (.int(let i), .double(let d)):
            return exactCompare(.double(d), .int(i)).map { -$0 }
        case (.double(let d), .int(let i)):
            if d.isNaN { return nil }
            if d.isInfinite { return d < 0 ? -1 : 1 }
            let whole = d.rounded(.down)
            // Beyond ±2^63 the float is out of Int's range and so past every Int.
            if whole >= 9.223372036854775807e18 { return 1 }
            if whole < -9.223372036854775807e18 { return -1 }
            let w = Int(whole)
            if w != i { return w < i ? -1 : 1 }
            return d > whole ? 1 : 0
        case (.int(let x), .int(let y)):
            return x < y ? -1 : x > y ? 1 : 0
        }
    }
}
