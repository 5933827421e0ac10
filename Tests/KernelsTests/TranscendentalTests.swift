// Own exp, tanh, erf, silu and GELU: accuracy against Double libm over dense sweeps (the bounds
// asserted are the measured maxima rounded up) and scalar == SIMD16, bit for bit.
import XCTest
import Foundation
@testable import Kernels

final class TranscendentalTests: XCTestCase {
    /// Every float step of `step` over [lo, hi], plus each value's neighbours.
    func sweep(_ lo: Float, _ hi: Float, count: Int = 400_000) -> [Float] {
        (0..<count).map { lo + (hi - lo) * Float($0) / Float(count - 1) }
    }

    func ulpError(_ got: Float, _ exact: Double) -> Double {
        let e = Float(exact)
        if got == e { return 0 }
        return abs(Double(got) - exact) / Double(e.ulp == 0 ? Float.leastNonzeroMagnitude : e.ulp)
    }

    func check(_ name: String, _ xs: [Float], scalar: (Float) -> Float, vector: (SIMD16<Float>) -> SIMD16<Float>,
               exact: (Double) -> Double, maxULP: Double, absolute: Double = 0) {
        var worst = 0.0, worstX: Float = 0
        for x in xs {
            let got = scalar(x), want = exact(Double(x))
            let err = abs(Double(got) - want) <= absolute ? 0 : ulpError(got, want)
            if err > worst { worst = err; worstX = x }
        }
        XCTAssertLessThanOrEqual(worst, maxULP, "\(name): worst \(worst) ulp at \(worstX)")
        print("\(name): max error \(String(format: "%.2f", worst)) ulp (at \(worstX))")
        var i = 0
        while i + 16 <= xs.count {
            var v = SIMD16<Float>()
            for l in 0..<16 { v[l] = xs[i + l] }
            let r = vector(v)
            for l in 0..<16 where r[l].bitPattern != scalar(xs[i + l]).bitPattern {
                XCTFail("\(name): SIMD differs from scalar at \(xs[i + l])")
                return
            }
            i += 16
        }
    }

    func testExp() {
        check("exp", sweep(-103, 88.7) + sweep(-2, 2), scalar: Math.exp, vector: Math.exp, exact: Foundation.exp, maxULP: 2)
        XCTAssertEqual(Math.exp(0), 1)
        XCTAssertEqual(Math.exp(-200), 0)
        XCTAssertEqual(Math.exp(100), .infinity)
        XCTAssertEqual(Math.exp(-Float.infinity), 0)
    }

    func testTanh() {
        check("tanh", sweep(-12, 12) + sweep(-0.7, 0.7), scalar: Math.tanh, vector: Math.tanh, exact: Foundation.tanh, maxULP: 3)
    }

    func testErf() {
        // Relative error is meaningless where erf is near 0 and the input tiny; 1e-9 absolute floor.
        check("erf", sweep(-5, 5) + sweep(-1.2, 1.2), scalar: Math.erf, vector: Math.erf, exact: Foundation.erf, maxULP: 4, absolute: 1e-9)
    }

    func testSiluAndGelu() {
        let xs = sweep(-20, 20)
        check("silu", xs, scalar: Math.silu, vector: Math.silu, exact: { $0 / (1 + Foundation.exp(-$0)) }, maxULP: 4)
        // GELU's 1 + tanh / 1 + erf cancels for negative x: judged by absolute error there.
        check("geluTanh", xs, scalar: Math.geluTanh, vector: Math.geluTanh,
              exact: { 0.5 * $0 * (1 + Foundation.tanh(0.7978845608028654 * ($0 + 0.044715 * $0 * $0 * $0))) },
              maxULP: 4, absolute: 2e-7)
        check("geluErf", xs, scalar: Math.geluErf, vector: Math.geluErf,
              exact: { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }, maxULP: 4, absolute: 2e-7)
    }

    /// A kernel set's own GELU loop (the AVX-512 sets', with erf and exp written out in C) gives
    /// Math.geluErf's bits: across erf's branches (|x/sqrt 2| below 1, up to 4, beyond), at the
    /// switch points, for tiny, huge, signed-zero and non-finite inputs, at every tail length.
    func testKernelSetGeluMatchesMath() {
        var xs: [Float] = [0, -0.0, 1e-38, -1e-38, 1e-8, 1.4142135, 1.4142137, -1.4142135, 5.656854, 5.6568546, -5.656854,
                           30, -30, 1e30, -1e30, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.greatestFiniteMagnitude]
        xs += sweep(-12, 12)
        var rng = SplitMix(8)
        for _ in 0..<4000 { xs.append(rng.uniform(-7, 7)) }
        let expected = xs.map(Math.geluErf)
        for set in KernelSet.supported {
            for count in [1, 15, 16, 17, xs.count] {
                var a = Array(xs.prefix(count))
                a.withUnsafeMutableBufferPointer { Elementwise.geluErf($0.baseAddress!, count: count, kernels: set) }
                XCTAssertNil(firstBitDifference(a, Array(expected.prefix(count))), "\(set) count \(count)")
            }
        }
    }

    func testElementwiseArraysMatchScalarAtAnyLength() {
        var rng = SplitMix(3)
        for count in [1, 15, 16, 17, 100] {
            let xs = (0..<count).map { _ in rng.uniform(-8, 8) }
            var a = xs
            a.withUnsafeMutableBufferPointer { Elementwise.silu($0.baseAddress!, count: count) }
            XCTAssertEqual(bits(a), bits(xs.map(Math.silu)))
            a = xs
            a.withUnsafeMutableBufferPointer { Elementwise.geluErf($0.baseAddress!, count: count) }
            XCTAssertEqual(bits(a), bits(xs.map(Math.geluErf)))
        }
    }
}
