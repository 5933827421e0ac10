// Rotary position embeddings. Angles are computed in Double with this file's own log, exp, sin
// and cos (IEEE double arithmetic only, no libm: libm's last bits differ between C libraries) and
// rounded to Float once:
//   freq_i = base^(-2i / dims) = exp(-(2i / dims) * ln(base)),   angle_i = position * freq_i / scale
// for i in 0..<dims/2. A model computes cos/sin once per position (`RoPE.angles`) and applies
// them to every head of every layer. The rotation of a pair (a, b) by (c, s) is
//   a' = fma(a, c, -(b * s)),   b' = fma(a, s, b * c)
// with pairs (x[2i], x[2i+1]) in the normal (llama) style and (x[i], x[i + dims/2]) in NeoX style
// (qwen2, gemma3). Dimensions past `dims` (partial rotation) are left as they are.

/// How a head's dimensions are paired for rotation.
public enum RopeStyle: Sendable {
    /// Adjacent pairs (2i, 2i + 1): llama.
    case normal
    /// Halves (i, i + dims/2): NeoX, qwen2, gemma3.
    case neox
}

/// Rotary embedding parameters, validated once.
public struct RoPE: Sendable {
    /// Rotated dimensions per head (even).
    public let dimensions: Int
    public let base: Double
    /// Linear position scaling: angles use position / scale.
    public let scale: Double
    public let style: RopeStyle
    private let frequencies: [Double]

    public init(dimensions: Int, base: Double, scale: Double = 1, style: RopeStyle) throws {
        guard dimensions > 0, dimensions % 2 == 0 else { throw KernelError.badShape("RoPE dimensions \(dimensions)") }
        guard base > 1, base.isFinite, scale > 0, scale.isFinite else {
            throw KernelError.badShape("RoPE base \(base), scale \(scale)")
        }
        self.dimensions = dimensions
        self.base = base
        self.scale = scale
        self.style = style
        let lnBase = DoubleMath.log(base)
        frequencies = (0..<(dimensions / 2)).map { DoubleMath.exp(-(Double(2 * $0) / Double(dimensions)) * lnBase) }
    }

    /// cos and sin of every pair's angle at `position`, interleaved (cos_0, sin_0, cos_1, ...):
    /// `dimensions` floats written to `out`.
    public func angles(position: Int, into out: UnsafeMutablePointer<Float>) {
        let p = Double(position) / scale
        for (i, f) in frequencies.enumerated() {
            let (s, c) = DoubleMath.sinCos(p * f)
            out[2 * i] = Float(c)
            out[2 * i + 1] = Float(s)
        }
    }

    /// Rotates `heads` consecutive heads of `headDimension` floats in place with `angles` from
    /// `angles(position:into:)`.
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDimension: Int, angles: UnsafePointer<Float>) {
        let half = dimensions / 2
        for h in 0..<heads {
            let v = x + h * headDimension
            for i in 0..<half {
                let c = angles[2 * i], s = angles[2 * i + 1]
                let ia = style == .normal ? 2 * i : i
                let ib = style == .normal ? 2 * i + 1 : i + half
                let a = v[ia], b = v[ib]
                v[ia] = (-(b * s)).addingProduct(a, c)
                v[ib] = (b * c).addingProduct(a, s)
            }
        }
    }
}

/// Double-precision log, exp and sin/cos from IEEE arithmetic alone, for tables computed once.
enum DoubleMath {
    static let ln2 = 0.6931471805599453094172321

    /// ln x for finite x > 0: x = m 2^e with m in [sqrt(1/2), sqrt 2), ln m = 2 atanh((m-1)/(m+1)).
    static func log(_ x: Double) -> Double {
        var m = x.significand            // [1, 2)
        var e = Double(x.exponent)
        if m > 1.4142135623730951 { m /= 2; e += 1 }
        let s = (m - 1) / (m + 1), s2 = s * s
        var term = s, sum = 0.0
        var k = 1.0
        for _ in 0..<40 { sum += term / k; term *= s2; k += 2 }
        return 2 * sum + e * ln2
    }

    /// e^x for moderate x: x = n ln2 + r, Taylor series of e^r, times 2^n.
    static func exp(_ x: Double) -> Double {
        let n = (x / ln2).rounded(.toNearestOrEven)
        let r = x - n * ln2
        var term = 1.0, sum = 1.0
        for k in 1..<30 { term *= r / Double(k); sum += term }
        return sum * Double(sign: .plus, exponent: Int(n), significand: 1)
    }

    /// (sin x, cos x): reduce by multiples of pi/2 (in two parts), then Taylor series.
    static func sinCos(_ x: Double) -> (Double, Double) {
        let halfPiHi = 1.5707963267341256, halfPiLo = 6.077100506506192e-11
        let q = (x / (halfPiHi + halfPiLo)).rounded(.toNearestOrEven)
        let r = (x - q * halfPiHi) - q * halfPiLo
        var s = 0.0, c = 0.0, term = r
        for k in 0..<14 {                  // r - r^3/3! + ...
            s += term
            term *= -r * r / Double((2 * k + 2) * (2 * k + 3))
        }
        term = 1
        for k in 0..<14 {
            c += term
            term *= -r * r / Double((2 * k + 1) * (2 * k + 2))
        }
        switch Int(q.truncatingRemainder(dividingBy: 4) + 4) % 4 {
        case 0: return (s, c)
        case 1: return (c, -s)
        case 2: return (-s, -c)
        default: return (-c, s)
        }
    }
}
