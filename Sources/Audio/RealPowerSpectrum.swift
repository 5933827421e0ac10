// The power spectrum |X[k]|², k = 0 … n/2, of a real frame of even length n, through one complex
// transform of length n/2: the frame's even samples as real parts and its odd samples as
// imaginary parts, z = e + i·o. With Z its transform and A = Z[k], B = conj(Z[n/2 − k]):
//   E[k] = (A + B) / 2,  O[k] = −i·(A − B) / 2,  X[k] = E[k] + e^(−2πi·k/n)·O[k]
// (E and O being the transforms of e and o, by the conjugate symmetry of real sequences' spectra).
// All in Double; the order of operations depends only on n.

struct RealPowerSpectrum: Sendable {
    let frameLength: Int
    let half: ComplexFFT
    /// e^(−2πi·k/n) for k = 0 … n/2.
    let rotationRe: [Double], rotationIm: [Double]

    var binCount: Int { frameLength / 2 + 1 }

    /// nil for odd or non-positive lengths, or half-lengths `ComplexFFT` cannot factor.
    init?(frameLength n: Int) {
        guard n >= 2, n % 2 == 0, let half = ComplexFFT(length: n / 2) else { return nil }
        frameLength = n
        self.half = half
        var re: [Double] = [], im: [Double] = []
        for k in 0...(n / 2) {
            let (c, s) = AudioMath.cosSin(turns: k, of: n)
            re.append(c); im.append(-s)
        }
        rotationRe = re; rotationIm = im
    }

    /// Working memory for one caller: reuse it across frames, never share it across threads.
    final class Workspace {
        let re, im, scratchRe, scratchIm, gather: UnsafeMutablePointer<Double>
        let count: Int

        init(_ spectrum: RealPowerSpectrum) {
            count = spectrum.frameLength / 2
            re = .allocate(capacity: count); im = .allocate(capacity: count)
            scratchRe = .allocate(capacity: count); scratchIm = .allocate(capacity: count)
            gather = .allocate(capacity: 2 * ComplexFFT.largestRadix)
        }

        deinit {
            re.deallocate(); im.deallocate(); scratchRe.deallocate(); scratchIm.deallocate(); gather.deallocate()
        }
    }

    /// Writes the `binCount` powers of `frame` (`frameLength` values) to `power`.
    func power(of frame: UnsafePointer<Double>, into power: UnsafeMutablePointer<Double>, workspace w: Workspace) {
        let h = frameLength / 2
        for j in 0..<h {
            w.re[j] = frame[2 * j]
            w.im[j] = frame[2 * j + 1]
        }
        half.forward(re: w.re, im: w.im, scratchRe: w.scratchRe, scratchIm: w.scratchIm, gather: w.gather)
        for k in 0...h {
            let a = k == h ? 0 : k, b = k == 0 ? 0 : h - k
            let aRe = w.re[a], aIm = w.im[a]
            let bRe = w.re[b], bIm = -w.im[b]
            let eRe = aRe + bRe, eIm = aIm + bIm
            // −i·(A − B)
            let oRe = aIm - bIm, oIm = bRe - aRe
            let rRe = rotationRe[k], rIm = rotationIm[k]
            let xRe = 0.5 * (eRe + (oRe * rRe - oIm * rIm))
            let xIm = 0.5 * (eIm + (oRe * rIm + oIm * rRe))
            power[k] = xRe * xRe + xIm * xIm
        }
    }
}
