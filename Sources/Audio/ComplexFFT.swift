// A complex discrete Fourier transform of any length whose prime factors are small, in Double:
// Stockham's autosort form of decimation in frequency, one pass per factor (radix 4 while the
// length allows, then 2, then odd primes in increasing order), ping-ponging between two buffers
// so the output comes out in natural order without a bit-reversal pass.
//
// Determinism: the factors, the twiddles and the order of every addition depend only on the
// length, so a frame's spectrum is the same bits whoever computes it. The twiddles come from
// AudioMath, not libm.
//
// One pass with radix r on sub-transforms of length n = r·m (s of them, interleaved with stride s):
//   y[q + s·(r·p + u)] = ω_n^(p·u) · Σ_j ω_r^(j·u) · x[q + s·(p + j·m)],   p < m, q < s, u < r,
// since X[u + r·k] = Σ_p ω_m^(p·k) · (ω_n^(p·u) Σ_j ω_r^(j·u) x[p + j·m]); the next pass takes the
// r·s sequences q' = q + s·u of length m.

struct ComplexFFT: Sendable {
    struct Pass: Sendable {
        var radix: Int
        /// Length of each sub-transform after this pass (m).
        var span: Int
        /// Number of interleaved sub-transforms going in (s).
        var stride: Int
        /// ω_n^(p·u) at p·radix + u, with n = radix·span.
        var twiddleRe: [Double], twiddleIm: [Double]
        /// ω_radix^t for t < radix (for the generic butterfly).
        var rootRe: [Double], rootIm: [Double]
    }

    let length: Int
    let passes: [Pass]
    /// The largest prime factor the generic butterfly is allowed (its work grows with radix²).
    static let largestRadix = 31

    /// nil when `length` < 1 or has a prime factor above `largestRadix`.
    init?(length: Int) {
        guard length >= 1 else { return nil }
        var radices: [Int] = []
        var rest = length
        while rest % 4 == 0 { radices.append(4); rest /= 4 }
        if rest % 2 == 0 { radices.append(2); rest /= 2 }
        var p = 3
        while rest > 1 {
            guard p <= Self.largestRadix else { return nil }
            while rest % p == 0 { radices.append(p); rest /= p }
            p += 2
        }
        self.length = length
        var passes: [Pass] = []
        var n = length, stride = 1
        for r in radices {
            let m = n / r
            var pass = Pass(radix: r, span: m, stride: stride, twiddleRe: [], twiddleIm: [], rootRe: [], rootIm: [])
            pass.twiddleRe.reserveCapacity(n); pass.twiddleIm.reserveCapacity(n)
            for p in 0..<m {
                for u in 0..<r {
                    let (c, s) = AudioMath.cosSin(turns: p * u, of: n)
                    pass.twiddleRe.append(c); pass.twiddleIm.append(-s)
                }
            }
            for t in 0..<r {
                let (c, s) = AudioMath.cosSin(turns: t, of: r)
                pass.rootRe.append(c); pass.rootIm.append(-s)
            }
            passes.append(pass)
            n = m
            stride *= r
        }
        self.passes = passes
    }

    /// The forward transform X[k] = Σ_t x[t]·e^(−2πi·t·k/n) of `re` + i·`im` (each `length`
    /// values), in place. `scratchRe`/`scratchIm` hold `length` values each and `roots` 2·(largest
    /// radix) values; their contents are overwritten.
    func forward(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                 scratchRe: UnsafeMutablePointer<Double>, scratchIm: UnsafeMutablePointer<Double>,
                 gather: UnsafeMutablePointer<Double>) {
        var xRe = re, xIm = im, yRe = scratchRe, yIm = scratchIm
        for pass in passes {
            switch pass.radix {
            case 2: Self.radix2(pass, xRe, xIm, yRe, yIm)
            case 4: Self.radix4(pass, xRe, xIm, yRe, yIm)
            default: Self.generic(pass, xRe, xIm, yRe, yIm, gather)
            }
            swap(&xRe, &yRe); swap(&xIm, &yIm)
        }
        if xRe != re {
            re.update(from: xRe, count: length)
            im.update(from: xIm, count: length)
        }
    }

    /// Stores b·ω at y[index], with ω = 1 exactly when u = 0 (so no multiplication is done).
    @inline(__always)
    static func store(_ bRe: Double, _ bIm: Double, _ pass: Pass, _ twiddle: Int, _ u: Int,
                      _ yRe: UnsafeMutablePointer<Double>, _ yIm: UnsafeMutablePointer<Double>, _ index: Int) {
        if u == 0 {
            yRe[index] = bRe; yIm[index] = bIm
        } else {
            let wRe = pass.twiddleRe[twiddle], wIm = pass.twiddleIm[twiddle]
            yRe[index] = bRe * wRe - bIm * wIm
            yIm[index] = bRe * wIm + bIm * wRe
        }
    }

    static func radix2(_ pass: Pass, _ xRe: UnsafeMutablePointer<Double>, _ xIm: UnsafeMutablePointer<Double>,
                       _ yRe: UnsafeMutablePointer<Double>, _ yIm: UnsafeMutablePointer<Double>) {
        let m = pass.span, s = pass.stride
        for p in 0..<m {
            for q in 0..<s {
                let i0 = q + s * p, i1 = i0 + s * m
                let o = q + s * (2 * p)
                yRe[o] = xRe[i0] + xRe[i1]; yIm[o] = xIm[i0] + xIm[i1]
                store(xRe[i0] - xRe[i1], xIm[i0] - xIm[i1], pass, 2 * p + 1, 1, yRe, yIm, o + s)
            }
        }
    }

    static func radix4(_ pass: Pass, _ xRe: UnsafeMutablePointer<Double>, _ xIm: UnsafeMutablePointer<Double>,
                       _ yRe: UnsafeMutablePointer<Double>, _ yIm: UnsafeMutablePointer<Double>) {
        let m = pass.span, s = pass.stride
        for p in 0..<m {
            for q in 0..<s {
                let i0 = q + s * p, i1 = i0 + s * m, i2 = i1 + s * m, i3 = i2 + s * m
                // ω_4 = −i: b0 = (a0+a2) + (a1+a3), b1 = (a0−a2) − i(a1−a3),
                //           b2 = (a0+a2) − (a1+a3), b3 = (a0−a2) + i(a1−a3).
                let sRe = xRe[i0] + xRe[i2], sIm = xIm[i0] + xIm[i2]
                let dRe = xRe[i0] - xRe[i2], dIm = xIm[i0] - xIm[i2]
                let tRe = xRe[i1] + xRe[i3], tIm = xIm[i1] + xIm[i3]
                let eRe = xRe[i1] - xRe[i3], eIm = xIm[i1] - xIm[i3]
                let o = q + s * (4 * p)
                store(sRe + tRe, sIm + tIm, pass, 4 * p, 0, yRe, yIm, o)
                store(dRe + eIm, dIm - eRe, pass, 4 * p + 1, 1, yRe, yIm, o + s)
                store(sRe - tRe, sIm - tIm, pass, 4 * p + 2, 2, yRe, yIm, o + 2 * s)
                store(dRe - eIm, dIm + eRe, pass, 4 * p + 3, 3, yRe, yIm, o + 3 * s)
            }
        }
    }

    /// Any radix: b_u = Σ_j ω_r^(j·u mod r)·a_j, j ascending from a_0.
    static func generic(_ pass: Pass, _ xRe: UnsafeMutablePointer<Double>, _ xIm: UnsafeMutablePointer<Double>,
                        _ yRe: UnsafeMutablePointer<Double>, _ yIm: UnsafeMutablePointer<Double>,
                        _ gather: UnsafeMutablePointer<Double>) {
        let r = pass.radix, m = pass.span, s = pass.stride
        let aRe = gather, aIm = gather + r
        for p in 0..<m {
            for q in 0..<s {
                for j in 0..<r {
                    aRe[j] = xRe[q + s * (p + j * m)]
                    aIm[j] = xIm[q + s * (p + j * m)]
                }
                let o = q + s * (r * p)
                for u in 0..<r {
                    var bRe = aRe[0], bIm = aIm[0]
                    var t = 0
                    for j in 1..<r {
                        t += u
                        if t >= r { t -= r }
                        let wRe = pass.rootRe[t], wIm = pass.rootIm[t]
                        bRe += aRe[j] * wRe - aIm[j] * wIm
                        bIm += aRe[j] * wIm + aIm[j] * wRe
                    }
                    store(bRe, bIm, pass, r * p + u, u, yRe, yIm, o + s * u)
                }
            }
        }
    }
}
