// The canonical serialization of a JSON value: the bytes receipts and journal entries are hashed
// over, so another program (in any language) can recompute every digest. It is RFC 8785 (the JSON
// Canonicalization Scheme) with one change: integers are written exactly, in decimal, over the
// whole 64-bit range (RFC 8785 treats every number as a binary64, which would round seeds above
// 2^53). protocol/README.md states the rules; Tests/protocol/test_receipts.py re-implements them.
//
// - Objects: members sorted by key, compared as UTF-16 code units; no whitespace anywhere.
// - Strings: `"` and `\` escaped, U+0008/0009/000A/000C/000D as \b \t \n \f \r, every other
//   control character below U+0020 as \u00xx (lowercase hex); everything else as raw UTF-8.
// - Integers (.int): decimal, `-` for negatives.
// - Reals (.double): ECMAScript's Number::toString: the shortest digits that read back as the
//   same binary64, fixed notation for exponents -6...20 and `1e+21`/`1.5e-7` style otherwise;
//   -0 is `0`. NaN and infinities have no JSON form and are refused.

public enum CanonicalJSONError: Error, CustomStringConvertible {
    case nonFinite(Double)
    public var description: String {
        switch self {
        case .nonFinite(let d): return "\(d) has no canonical JSON form"
        }
    }
}

extension JSONValue {
    /// The canonical bytes of this value (see the file header).
    public func canonicalBytes() throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try Self.writeCanonical(self, into: &out)
        return out
    }

    private static func writeCanonical(_ value: JSONValue, into out: inout [UInt8]) throws {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .int(let i): out += Array(String(i).utf8)
        case .double(let d): out += Array(try canonicalNumber(d).utf8)
        case .string(let s): writeCanonicalString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, e) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                try writeCanonical(e, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            let keys = o.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (i, k) in keys.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeCanonicalString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                try writeCanonical(o[k]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeCanonicalString(_ s: String, into out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0..<0x20:
                out += Array("\\u00".utf8)
                out += [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default:
                // UTF-8 bytes of non-ASCII characters are all >= 0x80: copied as they are.
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// ECMAScript's Number::toString for a finite binary64.
    public static func canonicalNumber(_ d: Double) throws -> String {
        guard d.isFinite else { throw CanonicalJSONError.nonFinite(d) }
        if d == 0 { return "0" }
        // Swift's description gives the shortest round-trip digits (closest to the value), as
        // ECMAScript asks; only the layout differs, so take the digits and the exponent from it.
        let (digits, pointPosition) = shortestDigits(abs(d))
        let k = digits.count, n = pointPosition
        var s = d < 0 ? "-" : ""
        if k <= n && n <= 21 {
            s += digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            s += digits.prefix(n) + "." + digits.dropFirst(n)
        } else if -6 < n && n <= 0 {
            s += "0." + String(repeating: "0", count: -n) + digits
        } else {
            let e = n - 1
            s += String(digits.prefix(1))
            if k > 1 { s += "." + digits.dropFirst() }
            s += "e" + (e >= 0 ? "+" : "-") + String(abs(e))
        }
        return s
    }

    /// The significant digits (no leading or trailing zeros) of a positive finite double, and
    /// where the decimal point sits: value = 0.d1d2d3... × 10^pointPosition.
    static func shortestDigits(_ d: Double) -> (String, Int) {
        let text = d.description  // "0.8", "1e-07", "1.2345e+16", "100.0", "5e-324"
        let parts = text.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1])! : 0
        let mantissa = parts[0]
        let dot = mantissa.firstIndex(of: ".")
        let integerPart = dot.map { mantissa[..<$0] } ?? mantissa[...]
        let fraction = dot.map { mantissa[mantissa.index(after: $0)...] } ?? ""
        var all = Array(integerPart + fraction)
        var point = integerPart.count + exponent
        while all.first == "0" { all.removeFirst(); point -= 1 }
        while all.last == "0" { all.removeLast() }
        return (String(all), point)
    }
}
