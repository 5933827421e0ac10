// The audio front end's own transcendentals against the platform's libm (Foundation), which is
// fine as a reference in tests: accurate to a few units in the last place over the ranges used.

@testable import Audio
import Foundation
import XCTest

final class AudioMathTests: XCTestCase {
    /// |a − b| in units of b's last place.
    private func ulps(_ a: Double, _ b: Double) -> Double {
        abs(a - b) / max(b.ulp, Double.leastNormalMagnitude)
    }

    func testCosSinOfFractionsOfATurn() {
        var worst = 0.0
        for n in [1, 2, 3, 4, 5, 8, 25, 200, 400, 800, 1000, 4096] {
            for k in -n...(2 * n) {
                let (c, s) = AudioMath.cosSin(turns: k, of: n)
                let angle = 2 * Double.pi * Double(k) / Double(n)
                // Absolute error against libm, in units of 2⁻⁵³·max(1, |angle|): libm's argument
                // carries the rounding of 2πk/n (half an ulp of the angle), ours does not.
                let unit = 0x1p-53 * max(1, abs(angle))
                worst = max(worst, abs(c - Foundation.cos(angle)) / unit, abs(s - Foundation.sin(angle)) / unit)
                XCTAssertEqual(c * c + s * s, 1, accuracy: 4e-16)
            }
            // Exact at quarter turns.
            if n % 4 == 0 {
                XCTAssertEqual(AudioMath.cosSin(turns: n / 4, of: n).cos, 0)
                XCTAssertEqual(AudioMath.cosSin(turns: n / 4, of: n).sin, 1)
                XCTAssertEqual(AudioMath.cosSin(turns: n / 2, of: n).cos, -1)
                XCTAssertEqual(AudioMath.cosSin(turns: 3 * n / 4, of: n).sin, -1)
            }
        }
        XCTAssertLessThanOrEqual(worst, 4, "cos/sin error \(worst) · 2⁻⁵³ · |angle|")
        print("AudioMath cos/sin worst error against libm: \(worst) · 2⁻⁵³ · max(1, |angle|)")
    }

    func testExpLogLog10() {
        var worstExp = 0.0, worstLog = 0.0, worstLog10 = 0.0
        var x = -30.0
        while x < 30 {
            worstExp = max(worstExp, ulps(AudioMath.exp(x), Foundation.exp(x)))
            x += 0.00731
        }
        var y = 1e-12
        while y < 1e12 {
            for v in [y, y.nextUp, 1 + y / 1e13] {
                worstLog = max(worstLog, ulps(AudioMath.log(v), Foundation.log(v)))
                worstLog10 = max(worstLog10, ulps(AudioMath.log10(v), Foundation.log10(v)))
            }
            y *= 1.0137
        }
        XCTAssertEqual(AudioMath.log(1), 0)
        XCTAssertEqual(AudioMath.exp(0), 1)
        XCTAssertLessThanOrEqual(worstExp, 4, "exp: \(worstExp) ulp")
        XCTAssertLessThanOrEqual(worstLog, 4, "log: \(worstLog) ulp")
        XCTAssertLessThanOrEqual(worstLog10, 4, "log10: \(worstLog10) ulp")
        print("AudioMath worst errors against libm: exp \(worstExp) ulp, log \(worstLog) ulp, log10 \(worstLog10) ulp")
    }
}
