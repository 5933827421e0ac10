// The mixed-radix transforms against a direct DFT computed here in Double with libm twiddles
// (a reference sharing no code with ComplexFFT), on random signals.

@testable import Audio
import Foundation
import XCTest

final class FourierTests: XCTestCase {
    private struct Random {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
    }

    private func directDFT(_ re: [Double], _ im: [Double]) -> (re: [Double], im: [Double]) {
        let n = re.count
        var outRe = [Double](repeating: 0, count: n), outIm = outRe
        for k in 0..<n {
            var sRe = 0.0, sIm = 0.0
            for t in 0..<n {
                let a = -2 * Double.pi * Double((t * k) % n) / Double(n)
                sRe += re[t] * Foundation.cos(a) - im[t] * Foundation.sin(a)
                sIm += re[t] * Foundation.sin(a) + im[t] * Foundation.cos(a)
            }
            outRe[k] = sRe; outIm[k] = sIm
        }
        return (outRe, outIm)
    }

    func testComplexFFTMatchesDirectDFT() throws {
        var random = Random(state: 42)
        for n in [1, 2, 3, 4, 5, 6, 8, 12, 16, 25, 30, 49, 60, 64, 100, 200, 210, 400, 31 * 4] {
            let fft = try XCTUnwrap(ComplexFFT(length: n), "length \(n)")
            var re = (0..<n).map { _ in random.next() }, im = (0..<n).map { _ in random.next() }
            let expected = directDFT(re, im)
            let scratchRe = UnsafeMutablePointer<Double>.allocate(capacity: n), scratchIm = UnsafeMutablePointer<Double>.allocate(capacity: n)
            let gather = UnsafeMutablePointer<Double>.allocate(capacity: 2 * ComplexFFT.largestRadix)
            defer { scratchRe.deallocate(); scratchIm.deallocate(); gather.deallocate() }
            re.withUnsafeMutableBufferPointer { r in
                im.withUnsafeMutableBufferPointer { i in
                    fft.forward(re: r.baseAddress!, im: i.baseAddress!, scratchRe: scratchRe, scratchIm: scratchIm, gather: gather)
                }
            }
            var worst = 0.0
            for k in 0..<n { worst = max(worst, abs(re[k] - expected.re[k]), abs(im[k] - expected.im[k])) }
            // Inputs in [−1, 1]: outputs up to n in size; both sides err by ~ε·√n·log n.
            XCTAssertLessThan(worst, 1e-13 * Double(n), "length \(n): \(worst)")
        }
        XCTAssertNil(ComplexFFT(length: 37 * 2))
        XCTAssertNil(ComplexFFT(length: 0))
    }

    func testRealPowerSpectrumMatchesDirectDFT() throws {
        var random = Random(state: 7)
        for n in [2, 4, 10, 50, 400] {
            let spectrum = try XCTUnwrap(RealPowerSpectrum(frameLength: n))
            XCTAssertEqual(spectrum.binCount, n / 2 + 1)
            let frame = (0..<n).map { _ in random.next() }
            let expected = directDFT(frame, [Double](repeating: 0, count: n))
            var power = [Double](repeating: 0, count: spectrum.binCount)
            let workspace = RealPowerSpectrum.Workspace(spectrum)
            frame.withUnsafeBufferPointer { f in
                power.withUnsafeMutableBufferPointer { p in
                    spectrum.power(of: f.baseAddress!, into: p.baseAddress!, workspace: workspace)
                }
            }
            for k in 0...(n / 2) {
                let reference = expected.re[k] * expected.re[k] + expected.im[k] * expected.im[k]
                XCTAssertEqual(power[k], reference, accuracy: 1e-12 * Double(n * n), "n \(n) bin \(k)")
            }
        }
        XCTAssertNil(RealPowerSpectrum(frameLength: 7))
    }
}
