// GBNF for the decimal integers in a range (JSON Schema minimum/maximum on integers): JSON's
// spelling (no leading zeros, no "-0"), every integer of the range and nothing else, with at most
// `maxDigits` digits when a side is unbounded (the limit JSON numbers have here).

enum IntegerRangeGrammar {
    static let maxDigits = 16

    /// An expression matching exactly the integers in lo...hi (nil: unbounded on that side).
    static func expression(lo: Int64?, hi: Int64?) -> String? {
        if let lo, let hi, lo > hi { return nil }
        var parts: [String] = []
        // Negative part: -n for n in max(1, -hi)...-lo.
        if lo == nil || lo! < 0 {
            let nLo: UInt64 = hi.map { $0 < 0 ? $0.magnitude : 1 } ?? 1
            let nHi: UInt64? = lo.map { $0.magnitude }
            if let body = positive(nLo, nHi) { parts.append("\"-\" (\(body))") }
        }
        if (lo ?? -1) <= 0 && (hi ?? 1) >= 0 { parts.append("\"0\"") }
        if hi == nil || hi! > 0 {
            let pLo: UInt64 = lo.map { $0 > 0 ? UInt64($0) : 1 } ?? 1
            let pHi: UInt64? = hi.map { UInt64($0) }
            if let body = positive(pLo, pHi) { parts.append(body) }
        }
        return parts.isEmpty ? nil : parts.joined(separator: " | ")
    }

    /// Positive integers lo...hi (lo ≥ 1; hi nil: up to maxDigits digits, or lo's length).
    static func positive(_ lo: UInt64, _ hi: UInt64?) -> String? {
        if let hi, hi < lo { return nil }
        let loDigits = Array(String(lo)), topLength = hi.map { String($0).count } ?? max(maxDigits, loDigits.count)
        var alternatives: [String] = []
        for length in loDigits.count...topLength {
            let a = length == loDigits.count ? loDigits : Array("1" + String(repeating: "0", count: length - 1))
            let b: [Character]
            if let hi, length == String(hi).count { b = Array(String(hi)) } else { b = Array(String(repeating: "9", count: length)) }
            alternatives.append(sameLength(a, b))
        }
        return alternatives.joined(separator: " | ")
    }

    /// Digit strings of equal length from a to b (a ≤ b).
    static func sameLength(_ a: [Character], _ b: [Character]) -> String {
        if a.isEmpty { return "\"\"" }
        if a == b { return "\"\(String(a))\"" }
        let n = a.count
        if a.dropFirst().allSatisfy({ $0 == "0" }) && b.dropFirst().allSatisfy({ $0 == "9" }) {
            return "[\(a[0])-\(b[0])]" + (n > 1 ? " [0-9]{\(n - 1)}" : "")
        }
        if a[0] == b[0] { return "\"\(a[0])\" (\(sameLength(Array(a.dropFirst()), Array(b.dropFirst()))))" }
        var parts: [String] = []
        let nines = [Character](repeating: "9", count: n - 1), zeros = [Character](repeating: "0", count: n - 1)
        parts.append("\"\(a[0])\" (\(sameLength(Array(a.dropFirst()), nines)))")
        let d0 = a[0].wholeNumberValue! + 1, d1 = b[0].wholeNumberValue! - 1
        if d0 <= d1 { parts.append("[\(d0)-\(d1)] [0-9]{\(n - 1)}") }
        parts.append("\"\(b[0])\" (\(sameLength(zeros, Array(b.dropFirst()))))")
        return parts.joined(separator: " | ")
    }
}
