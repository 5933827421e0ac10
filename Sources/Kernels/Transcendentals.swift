// The project's own exp, tanh, erf, sigmoid, SiLU and GELU, so the forward pass never calls libm
// (libm's results differ between C libraries and versions). Each function is branch-free in its
// arithmetic: a scalar version and a SIMD16 version run the same operations per lane, fused in
// the same places, and so agree bit for bit (tested). Polynomial coefficients were fitted for
// this file (weighted least squares on Chebyshev nodes against mpmath, then rounded to Float).
// Accuracy against double-precision references is measured in TranscendentalTests.
// The SIMD16 forms are internal on purpose: this module is built for a target CPU its clients may
// not share, and a SIMD16<Float> argument is passed in different registers with and without AVX.
// Clients use the array functions (Elementwise, Norms, Attention) and the scalar forms.

/// Own transcendental functions, scalar and 16-lane.
public enum Math {
    // exp: x = n ln2 + r, |r| <= ln2/2, e^r = 1 + r + r^2 (c2 + c3 r + ... + c6 r^4), 2^n in two
    // factors so that subnormal results and overflow come out right.
    static let log2e: Float = 1.442695041
    static let ln2Hi: Float = 0.693145751953125      // 0x3F317200: n * ln2Hi is exact
    static let ln2Lo: Float = 1.428606765330187e-06
    static let e2: Float = 0.5, e3: Float = 0.16666577756404877, e4: Float = 0.04166685417294502
    static let e5: Float = 0.008363140746951103, e6: Float = 0.0013901268830522895
    static let magic: Float = 12_582_912.0             // 1.5 * 2^23: adding it rounds to an integer

    /// e^x. Below -104 the result is 0, above 89 it is +inf; NaN stays NaN.
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        var v = x > 89 ? 89 : x
        v = v < -104 ? -104 : v
        let t = v * log2e + magic
        let n = t - magic
        var r = v.addingProduct(-n, ln2Hi)
        r = r.addingProduct(-n, ln2Lo)
        var p = e6
        p = e5.addingProduct(p, r)
        p = e4.addingProduct(p, r)
        p = e3.addingProduct(p, r)
        p = e2.addingProduct(p, r)
        let er = (1 + r).addingProduct(p, r * r)
        let k = Int32(bitPattern: t.bitPattern) &- 0x4B40_0000
        let k1 = k &>> 1, k2 = k &- k1
        let s1 = Float(bitPattern: UInt32(bitPattern: (k1 &+ 127) &<< 23))
        let s2 = Float(bitPattern: UInt32(bitPattern: (k2 &+ 127) &<< 23))
        return (er * s1) * s2
    }

    @inline(__always)
    static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        var v = x.replacing(with: 89, where: x .> 89)
        v = v.replacing(with: -104, where: v .< -104)
        let t = v * log2e + magic
        let n = t - magic
        var r = v.addingProduct(-n, SIMD16(repeating: ln2Hi))
        r = r.addingProduct(-n, SIMD16(repeating: ln2Lo))
        var p = SIMD16<Float>(repeating: e6)
        p = SIMD16(repeating: e5).addingProduct(p, r)
        p = SIMD16(repeating: e4).addingProduct(p, r)
        p = SIMD16(repeating: e3).addingProduct(p, r)
        p = SIMD16(repeating: e2).addingProduct(p, r)
        let er = (1 + r).addingProduct(p, r * r)
        let k = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let k1 = k &>> 1, k2 = k &- k1
        let s1 = unsafeBitCast((k1 &+ 127) &<< 23, to: SIMD16<Float>.self)
        let s2 = unsafeBitCast((k2 &+ 127) &<< 23, to: SIMD16<Float>.self)
        return (er * s1) * s2
    }

    // tanh: |x| < 0.625: x + x^3 P(x^2); otherwise 1 - 2 / (e^(2|x|) + 1), sign restored.
    static let t0: Float = -0.3333333432674408, t1: Float = 0.13333304226398468, t2: Float = -0.05395926162600517
    static let t3: Float = 0.021768944337964058, t4: Float = -0.008344022557139397, t5: Float = 0.0022928237449377775

    @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let a = abs(x)
        let u = x * x
        var p = t5
        p = t4.addingProduct(p, u); p = t3.addingProduct(p, u); p = t2.addingProduct(p, u)
        p = t1.addingProduct(p, u); p = t0.addingProduct(p, u)
        let small = x.addingProduct(x * u, p)
        let large = 1 - 2 / (exp(2 * a) + 1)
        let signed = Float(signOf: x, magnitudeOf: large)
        return a < 0.625 ? small : signed
    }

    @inline(__always)
    static func tanh(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let a = magnitude(x)
        let u = x * x
        var p = SIMD16<Float>(repeating: t5)
        p = SIMD16(repeating: t4).addingProduct(p, u); p = SIMD16(repeating: t3).addingProduct(p, u)
        p = SIMD16(repeating: t2).addingProduct(p, u); p = SIMD16(repeating: t1).addingProduct(p, u)
        p = SIMD16(repeating: t0).addingProduct(p, u)
        let small = x.addingProduct(x * u, p)
        let large = 1 - 2 / (exp(2 * a) + 1)
        let sign = unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x8000_0000
        let signed = unsafeBitCast(unsafeBitCast(large, to: SIMD16<UInt32>.self) | sign, to: SIMD16<Float>.self)
        return signed.replacing(with: small, where: a .< 0.625)
    }

    // erf: |x| < 1: x P(x^2); 1 <= |x| < 4: 1 - e^(-x^2) Q(1/|x|) with x^2 split exactly by fma;
    // beyond 4, erf is 1 in Float.
    static let erfP: [Float] = [1.128379225730896, -0.37612637877464294, 0.11283782124519348, -0.0268654003739357,
                                0.005220945458859205, -0.000848282827064395, 0.00011256943980697542, -9.641505130275618e-06]
    static let erfQ: [Float] = [0.00012106820940971375, 0.5617681741714478, 0.02053440921008587, -0.3758567273616791,
                                0.2303774356842041, 0.23836581408977509, -0.5369860529899597, 0.43826767802238464,
                                -0.17972426116466522, 0.030716052278876305]

    @inline(__always)
    public static func erf(_ x: Float) -> Float {
        let a = min(abs(x), 4)
        let u = x * x
        var p = erfP[7]
        for i in stride(from: 6, through: 0, by: -1) { p = erfP[i].addingProduct(p, u) }
        let small = x * p
        let w = 1 / a
        var q = erfQ[9]
        for i in stride(from: 8, through: 0, by: -1) { q = erfQ[i].addingProduct(q, w) }
        let h = a * a, l = (-h).addingProduct(a, a)
        let e = exp(-h) * (1 - l)
        let large = 1 - e * q
        return abs(x) < 1 ? small : Float(signOf: x, magnitudeOf: large)
    }

    @inline(__always)
    static func erf(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let ax = magnitude(x)
        let a = ax.replacing(with: 4, where: ax .> 4)
        let u = x * x
        var p = SIMD16<Float>(repeating: erfP[7])
        for i in stride(from: 6, through: 0, by: -1) { p = SIMD16(repeating: erfP[i]).addingProduct(p, u) }
        let small = x * p
        let w = 1 / a
        var q = SIMD16<Float>(repeating: erfQ[9])
        for i in stride(from: 8, through: 0, by: -1) { q = SIMD16(repeating: erfQ[i]).addingProduct(q, w) }
        let h = a * a, l = (-h).addingProduct(a, a)
        let e = exp(-h) * (1 - l)
        let large = 1 - e * q
        let sign = unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x8000_0000
        let signed = unsafeBitCast(unsafeBitCast(large, to: SIMD16<UInt32>.self) | sign, to: SIMD16<Float>.self)
        return signed.replacing(with: small, where: ax .< 1)
    }

    /// |x| lane-wise: the sign bit cleared, as scalar `abs` does.
    @inline(__always)
    static func magnitude(_ x: SIMD16<Float>) -> SIMD16<Float> {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
    }

    /// 1 / (1 + e^-x).
    @inline(__always) public static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
    @inline(__always) static func sigmoid(_ x: SIMD16<Float>) -> SIMD16<Float> { 1 / (1 + exp(-x)) }

    /// x / (1 + e^-x).
    @inline(__always) public static func silu(_ x: Float) -> Float { x / (1 + exp(-x)) }
    @inline(__always) static func silu(_ x: SIMD16<Float>) -> SIMD16<Float> { x / (1 + exp(-x)) }

    static let geluK: Float = 0.7978845608028654   // sqrt(2 / pi)
    static let geluC: Float = 0.044715
    static let inverseSqrt2: Float = 0.7071067811865476

    /// GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2))).
    @inline(__always)
    public static func geluTanh(_ x: Float) -> Float {
        let inner = (geluK * x) * Float(1).addingProduct(geluC * x, x)
        return 0.5 * x * (1 + tanh(inner))
    }

    @inline(__always)
    static func geluTanh(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let inner = (geluK * x) * SIMD16<Float>(repeating: 1).addingProduct(geluC * x, x)
        return 0.5 * x * (1 + tanh(inner))
    }

    /// GELU, erf form (BERT): 0.5 x (1 + erf(x / sqrt 2)).
    @inline(__always) public static func geluErf(_ x: Float) -> Float { 0.5 * x * (1 + erf(x * inverseSqrt2)) }
    @inline(__always) static func geluErf(_ x: SIMD16<Float>) -> SIMD16<Float> { 0.5 * x * (1 + erf(x * inverseSqrt2)) }
}
