// SharedKeyAttention against Attention.attend row by row, bit for bit, on every kernel set this
// CPU runs (the AVX-512 sets score transposed key blocks and take the softmax in C), and the C
// softmax's exp against Math.exp over its whole range.
import XCTest
@testable import Kernels

final class SharedKeyAttentionTests: XCTestCase {
    func testRowsEqualAttendOneByOne() throws {
        var rng = SplitMix(21)
        for (positions, dim, count) in [(100, 64, 8), (1500, 64, 5), (16, 64, 3), (33, 48, 4), (7, 16, 2), (70, 32, 1)] {
            let keys = (0..<(positions * dim)).map { _ in rng.uniform(-3, 3) }
            let values = (0..<(positions * dim)).map { _ in rng.uniform(-3, 3) }
            let queries = (0..<(count * dim)).map { _ in rng.uniform(-3, 3) }
            var transposed = [Float](repeating: 0, count: SharedKeyAttention.transposedCount(positions: positions, dim: dim))
            SharedKeyAttention.transposeKeys(keys, stride: dim, positions: positions, dim: dim, into: &transposed)
            let scale = 1 / Float(dim).squareRoot()
            // Each row alone, as one head of a one-head cache.
            let one = try AttentionShape(heads: 1, kvHeads: 1, headDimension: dim, scale: scale)
            var expected = [Float](repeating: 0, count: count * dim)
            var scratch = [Float](repeating: 0, count: SharedKeyAttention.scratchCount(positions: positions, count: count))
            for i in 0..<count {
                var o = [Float](repeating: 0, count: dim)
                Attention.attend(query: Array(queries[(i * dim)..<((i + 1) * dim)]), keys: keys, values: values,
                                 position: positions - 1, shape: one, output: &o, scratch: &scratch, path: .reference)
                expected.replaceSubrange((i * dim)..<((i + 1) * dim), with: o)
            }
            let rows = try AttentionShape(heads: count, kvHeads: 1, headDimension: dim, scale: scale)
            for set in KernelSet.supported {
                var out = [Float](repeating: 0, count: count * dim)
                SharedKeyAttention.attend(queries: queries, rows: rows, keys: keys, transposed: transposed, values: values,
                                          positions: positions, output: &out, scratch: &scratch, kernels: set)
                XCTAssertNil(firstBitDifference(out, expected), "\(set) \(positions) keys × \(dim), \(count) rows")
            }
        }
    }

    /// With a largest score of 0, the numerators are exp(s) itself: every kernel set's softmax
    /// against Math.exp, from below the underflow clamp through subnormal results to above the
    /// overflow clamp, with Z against the reference's lane sums.
    func testSoftmaxExpMatchesMathExp() throws {
        var scores: [Float] = [0, -0.0, -1e-30, -0.5, -1, -2.5, -10, -87, -87.5, -88.7, -95, -103.9, -104, -104.5, -200, -.infinity]
        var rng = SplitMix(5)
        for _ in 0..<1000 { scores.append(rng.uniform(-110, 0)) }
        for n in [1, 15, 16, 17, scores.count] {
            let s = Array(scores.prefix(n))
            var reference = s
            let z = Attention.softmaxNumerators(&reference, start: 0, count: n)
            for (i, x) in s.enumerated() { XCTAssertEqual(reference[i].bitPattern, Math.exp(x).bitPattern, "exp(\(x))") }
            for set in KernelSet.supported {
                guard let softmax = set.cSet?.pointee.softmax else { continue }
                var e = s
                let zc = softmax(&e, Int64(n))
                XCTAssertNil(firstBitDifference(e, reference), "\(set) n=\(n)")
                XCTAssertEqual(zc.bitPattern, z.bitPattern, "\(set) n=\(n)")
            }
        }
        // A largest score that is not 0, and scores past the overflow clamp after the shift.
        for set in KernelSet.supported {
            guard let softmax = set.cSet?.pointee.softmax else { continue }
            for s in [[Float](arrayLiteral: 3, 95, -7, 95, 12.5), [200, -200, 0, 1e-3], [-5, -5, -5]] {
                var reference = s, e = s
                let z = Attention.softmaxNumerators(&reference, start: 0, count: s.count)
                let zc = softmax(&e, Int64(s.count))
                XCTAssertNil(firstBitDifference(e, reference), "\(set) \(s)")
                XCTAssertEqual(zc.bitPattern, z.bitPattern, "\(set) \(s)")
            }
        }
    }
}
