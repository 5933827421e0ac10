// GBNF for JSON numbers within integer bounds (JSON Schema minimum/maximum/exclusiveMinimum/
// exclusiveMaximum on "number"): exactly the decimals in the range, written without an exponent
// (narrower than JSON, never wider). A number is its sign and its magnitude m = I.F; each side
// of zero is a range of magnitudes, and a range of magnitudes splits on the integer part I:
// strictly inside, any fraction; at the lower end, any fraction (a nonzero one if exclusive); at
// the upper end, only zeros (nothing if exclusive).

enum NumberRangeGrammar {
    /// One end of a range: the integer and whether it is excluded.
    struct Bound { let value: Int64; let exclusive: Bool }

    static let anyFraction = #"("." [0-9]{1,16})?"#
    static let zeroFraction = #"("." "0"{1,16})?"#
    static let nonzeroFraction = #""." "0"{0,15} [1-9] [0-9]{0,14}"#

    /// An expression for the numbers x with lo ≤ x ≤ hi (each end optional, maybe exclusive);
    /// nil when none is.
    static func expression(lo: Bound?, hi: Bound?) -> String? {
        var parts: [String] = []
        // x ≥ 0, written as its magnitude.
        if hi.map({ $0.value > 0 || ($0.value == 0 && !$0.exclusive) }) ?? true {
            let low = lo.map { $0.value >= 0 ? $0 : Bound(value: 0, exclusive: false) } ?? Bound(value: 0, exclusive: false)
            if let m = magnitudes(low, hi) { parts.append(m) }
        }
        // x < 0, written "-" and its magnitude m = -x: lo bounds m from above, hi from below.
        if lo.map({ $0.value < 0 }) ?? true {
            let low = hi.map { $0.value < 0 ? Bound(value: -$0.value, exclusive: $0.exclusive) : Bound(value: 0, exclusive: true) }
                ?? Bound(value: 0, exclusive: true)
            let high = lo.map { Bound(value: -$0.value, exclusive: $0.exclusive) }
            if let m = magnitudes(low, high) { parts.append("\"-\" (\(m))") }
        }
        return parts.isEmpty ? nil : parts.joined(separator: " | ")
    }

    /// Magnitudes I.F with low ≤ m ≤ high (high nil: unbounded), low.value ≥ 0.
    static func magnitudes(_ low: Bound, _ high: Bound?) -> String? {
        let a = low.value
        var alternatives: [String] = []
        if let high {
            let b = high.value
            if b < a { return nil }
            if a == b {
                // Only m = a itself, and only if neither end excludes it.
                return low.exclusive || high.exclusive ? nil : "\(integer(a, a)!) \(zeroFraction)"
            }
            if b - a >= 2, let inside = integer(a + 1, b - 1) { alternatives.append("(\(inside)) \(anyFraction)") }
            if !high.exclusive { alternatives.append("\(integer(b, b)!) \(zeroFraction)") }
        } else if let inside = integer(a + 1, nil) {
            alternatives.append("(\(inside)) \(anyFraction)")
        }
        alternatives.append("\(integer(a, a)!) \(low.exclusive ? nonzeroFraction : anyFraction)")
        return alternatives.joined(separator: " | ")
    }

    static func integer(_ lo: Int64, _ hi: Int64?) -> String? { IntegerRangeGrammar.expression(lo: lo, hi: hi) }
}
