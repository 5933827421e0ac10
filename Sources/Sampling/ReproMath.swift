// The few double-precision functions outside the forward pass that decide results (the log of a
// softmax normaliser, beam search's length penalty), written out so results never depend on the
// platform's libm: a receipt replayed on another machine must give the same bits.

public enum ReproMath {
    static let ln2 = 0.6931471805599453094172321

    /// ln x for finite x > 0: x = m·2^e with m in [√½, √2), ln m = 2·atanh((m−1)/(m+1)) by its
    /// series (|s| < 0.172, so 20 terms are past double precision).
    public static func log(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return x == 0 ? -.infinity : (x == .infinity ? .infinity : .nan) }
        var m = x.significand
        var e = Double(x.exponent)
        if m > 1.4142135623730951 { m /= 2; e += 1 }
        let s = (m - 1) / (m + 1), s2 = s * s
        var term = s, sum = 0.0, k = 1.0
        for _ in 0..<20 { sum += term / k; term *= s2; k += 2 }
        return 2 * sum + e * ln2
    }

    /// ln 2 in two parts (Cody and Waite): n·ln2Hi is exact for |n| < 2^11, so the reduction
    /// below loses no bits for any finite result.
    static let ln2Hi = 6.93147180369123816490e-01
    static let ln2Lo = 1.90821492927058770002e-10

    /// e^x: x = n·ln2 + r with |r| ≤ ln2/2, Taylor series of e^r (25 terms), times 2^n.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709 { return .infinity }
        if x < -745 { return 0 }
        let n = (x / ln2).rounded(.toNearestOrEven)
        let r = (x - n * ln2Hi) - n * ln2Lo
        var term = 1.0, sum = 1.0
        for k in 1..<25 { term *= r / Double(k); sum += term }
        return sum * Double(sign: .plus, exponent: Int(n), significand: 1)
    }

    /// x^y for x > 0, as e^(y·ln x).
    public static func pow(_ x: Double, _ y: Double) -> Double {
        if y == 0 || x == 1 { return 1 }
        return exp(y * log(x))
    }
}
