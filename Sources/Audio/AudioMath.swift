// The few transcendental functions the audio front end needs, in Double, written out so features
// never depend on the platform's libm (docs/determinism.md): cos and sin of a rational fraction of
// a turn (DFT twiddles, the Hann window), e^x and ln x (the mel scale), log10 (the features). Each
// is a fixed sequence of IEEE operations, so every machine computes the same bits. Accuracy
// against libm is measured in AudioMathTests (a few units in the last place).

enum AudioMath {
    // MARK: cos and sin of 2π·k/n

    /// Taylor coefficients 1/(2i)! and 1/(2i+1)!, built by exact-as-possible division once.
    static let cosCoefficients: [Double] = taylorCoefficients(firstDenominator: 2)
    static let sinCoefficients: [Double] = taylorCoefficients(firstDenominator: 3)

    static func taylorCoefficients(firstDenominator: Int) -> [Double] {
        // (−1)^i / d! for d = 0 or 1, then every second factorial: 1, −1/2!, 1/4!, ...
        var c: [Double] = [1]
        var value = 1.0
        var d = firstDenominator
        for _ in 0..<11 {
            value = -value / Double((d - 1) * d)
            c.append(value)
            d += 2
        }
        return c
    }

    /// cos and sin of x for 0 ≤ x ≤ π/4, by their Taylor series in x² (12 terms: the first one
    /// left out is below 2⁻⁸⁰ of the result).
    static func cosSinSmall(_ x: Double) -> (cos: Double, sin: Double) {
        let x2 = x * x
        var c = cosCoefficients[11], s = sinCoefficients[11]
        for i in stride(from: 10, through: 0, by: -1) {
            c = c * x2 + cosCoefficients[i]
            s = s * x2 + sinCoefficients[i]
        }
        return (c, x * s)
    }

    /// cos(2π·k/n) and sin(2π·k/n) for n > 0 and any integer k. The angle is reduced exactly in
    /// integers to the first octant, so large k loses nothing, and the symmetries give exact
    /// zeros and ±1 at multiples of a quarter turn.
    static func cosSin(turns k: Int, of n: Int) -> (cos: Double, sin: Double) {
        precondition(n > 0 && n <= 1 << 40, "fraction of a turn out of range")
        var m = k % n
        if m < 0 { m += n }
        // 4m = q·n + r: quadrant q, and r/n of a quarter turn into it.
        let q = (4 * m) / n, r = (4 * m) % n
        let quarter = Double.pi / 2
        var c: Double, s: Double
        if 2 * r <= n {
            (c, s) = cosSinSmall(quarter * Double(r) / Double(n))
        } else {
            // The rest of the quadrant, from its far end: cos and sin swap.
            let (cc, ss) = cosSinSmall(quarter * Double(n - r) / Double(n))
            c = ss; s = cc
        }
        switch q {
        case 0: return (c, s)
        case 1: return (-s, c)
        case 2: return (-c, -s)
        default: return (s, -c)
        }
    }

    // MARK: e^x and ln x

    static let ln2 = 0.6931471805599453094172321
    /// ln 2 in two parts (Cody and Waite): n·ln2Hi is exact for |n| < 2¹¹.
    static let ln2Hi = 6.93147180369123816490e-01
    static let ln2Lo = 1.90821492927058770002e-10
    static let ln10 = 2.302585092994045684017991

    /// e^x for |x| < 700: x = n·ln2 + r with |r| ≤ ln2/2, Taylor series of e^r (18 terms, the
    /// next below 2⁻⁶⁰ of the sum), times 2ⁿ.
    static func exp(_ x: Double) -> Double {
        precondition(abs(x) < 700, "exp argument out of range")
        let n = (x / ln2).rounded(.toNearestOrEven)
        let r = (x - n * ln2Hi) - n * ln2Lo
        // Horner for Σ rⁱ/i! = 1 + r(1 + r/2(1 + r/3(⋯(1 + r/18)))).
        var sum = 1.0
        var k = 18.0
        while k > 0 {
            sum = sum * r / k + 1
            k -= 1
        }
        return sum * Double(sign: .plus, exponent: Int(n), significand: 1)
    }

    /// 1/(2i+1) for the atanh series of ln.
    static let oddReciprocals: [Double] = (0..<13).map { 1.0 / Double(2 * $0 + 1) }

    /// ln x for finite x > 0: x = m·2^e with m in [√½, √2), ln m = 2·atanh(s) with
    /// s = (m−1)/(m+1), |s| < 0.172, by 13 terms of its series (the next below 2⁻⁶⁴ of the sum).
    static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "log argument out of range")
        var m = x.significand
        var e = Double(x.exponent)
        if m > 1.4142135623730951 { m /= 2; e += 1 }
        let s = (m - 1) / (m + 1), s2 = s * s
        var p = oddReciprocals[12]
        for i in stride(from: 11, through: 0, by: -1) { p = p * s2 + oddReciprocals[i] }
        return (2 * s * p + e * ln2Lo) + e * ln2Hi
    }

    /// log₁₀ x for finite x > 0.
    static func log10(_ x: Double) -> Double { log(x) / ln10 }
}
