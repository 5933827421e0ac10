// Norms, softmax, RoPE and attention: the two paths agree bit for bit, results are close to a
// Double computation, and attention for a position does not depend on how it is reached.
import XCTest
import Foundation
@testable import Kernels

final class NormsTests: XCTestCase {
    func testFloatDotPathsAgreeAtEveryLength() {
        var rng = SplitMix(11)
        for count in [1, 7, 16, 31, 64, 577, 4864] {
            let a = (0..<count).map { _ in rng.activation() }, b = (0..<count).map { _ in rng.activation() }
            let fast = FloatDot.dot(a, b, count: count), ref = FloatDot.dot(a, b, count: count, path: .reference)
            XCTAssertEqual(fast.bitPattern, ref.bitPattern, "dot \(count)")
            XCTAssertEqual(FloatDot.sum(a, count: count).bitPattern, FloatDot.sum(a, count: count, path: .reference).bitPattern)
        }
    }

    func testNormsAndSoftmaxPathsAgreeAndAreAccurate() {
        var rng = SplitMix(12)
        for count in [5, 64, 576, 897] {
            let x = (0..<count).map { _ in rng.uniform(-3, 3) }
            let w = (0..<count).map { _ in rng.uniform(0.5, 1.5) }, b = (0..<count).map { _ in rng.uniform(-1, 1) }
            var r1 = [Float](repeating: 0, count: count), r2 = r1
            Norms.rmsNorm(x, weight: w, count: count, epsilon: 1e-5, output: &r1)
            Norms.rmsNorm(x, weight: w, count: count, epsilon: 1e-5, output: &r2, path: .reference)
            XCTAssertEqual(bits(r1), bits(r2))
            let rms = (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(count) + 1e-5).squareRoot()
            XCTAssertEqual(Double(r1[1]), Double(x[1]) / rms * Double(w[1]), accuracy: 1e-5)
            Norms.layerNorm(x, weight: w, bias: b, count: count, epsilon: 1e-12, output: &r1)
            Norms.layerNorm(x, weight: w, bias: b, count: count, epsilon: 1e-12, output: &r2, path: .reference)
            XCTAssertEqual(bits(r1), bits(r2))
            var s1 = x, s2 = x
            Norms.softmax(&s1, count: count)
            Norms.softmax(&s2, count: count, path: .reference)
            XCTAssertEqual(bits(s1), bits(s2))
            XCTAssertEqual(Double(s1.reduce(0, +)), 1, accuracy: 1e-5)
        }
    }

    func testRopeAnglesAndRotation() throws {
        let rope = try RoPE(dimensions: 64, base: 10000, style: .neox)
        var angles = [Float](repeating: 0, count: 64)
        for position in [0, 1, 17, 4095, 32767] {
            rope.angles(position: position, into: &angles)
            for i in 0..<32 {
                let theta = Double(position) * pow(10000, -Double(2 * i) / 64)
                XCTAssertEqual(angles[2 * i], Float(cos(theta)), accuracy: 2e-7, "cos p=\(position) i=\(i)")
                XCTAssertEqual(angles[2 * i + 1], Float(sin(theta)), accuracy: 2e-7, "sin p=\(position) i=\(i)")
            }
        }
        // A rotation keeps each pair's length, in both styles.
        for style in [RopeStyle.normal, .neox] {
            let r = try RoPE(dimensions: 64, base: 1_000_000, style: style)
            r.angles(position: 1234, into: &angles)
            var x = (0..<128).map { Float($0 % 7) - 3 }
            let before = x
            r.apply(&x, heads: 2, headDimension: 64, angles: angles)
            let pair = style == .normal ? (0, 1) : (0, 32)
            XCTAssertEqual(x[pair.0] * x[pair.0] + x[pair.1] * x[pair.1],
                           before[pair.0] * before[pair.0] + before[pair.1] * before[pair.1], accuracy: 1e-4)
        }
        XCTAssertThrowsError(try RoPE(dimensions: 63, base: 10000, style: .normal))
    }

    func testAttentionPathsAgreeAndMatchDouble() throws {
        var rng = SplitMix(13)
        let shapes: [(Int, Int, Int, Int?)] = [(9, 3, 64, nil), (4, 1, 256, 5), (14, 2, 64, nil), (2, 2, 24, 3),
                                               (8, 2, 96, 40), (6, 6, 48, nil), (16, 2, 32, 17)]
        for (heads, kv, dim, window) in shapes {
            let shape = try AttentionShape(heads: heads, kvHeads: kv, headDimension: dim, window: window, scale: 1 / Float(dim).squareRoot())
            let positions = 100
            let keys = (0..<(positions * shape.kvStride)).map { _ in rng.uniform(-2, 2) }
            let values = (0..<(positions * shape.kvStride)).map { _ in rng.uniform(-2, 2) }
            let q = (0..<(heads * dim)).map { _ in rng.uniform(-2, 2) }
            var scratch = [Float](repeating: 0, count: Attention.scratchCount(position: positions, heads: heads))
            for p in [0, 1, 15, 16, 20, 39, 63, 64, 65, 99] {
                var o1 = [Float](repeating: 0, count: heads * dim), o2 = o1
                Attention.attend(query: q, keys: keys, values: values, position: p, shape: shape, output: &o1, scratch: &scratch)
                Attention.attend(query: q, keys: keys, values: values, position: p, shape: shape, output: &o2, scratch: &scratch, path: .reference)
                XCTAssertNil(firstBitDifference(o1, o2), "\(heads)/\(kv)/\(dim) p=\(p)")
                // Every kernel set this CPU runs (the AVX-512 sets have their own attention loops),
                // for all heads and for a range of heads as decode splits them over threads.
                for set in KernelSet.supported {
                    for range in [0..<heads, 1..<(heads - heads / 3)] where !range.isEmpty {
                        var o3 = [Float](repeating: 0, count: heads * dim)
                        Attention.attend(query: q, keys: keys, values: values, position: p, shape: shape, heads: range,
                                         output: &o3, scratch: &scratch, kernels: set)
                        XCTAssertNil(firstBitDifference(Array(o3[(range.lowerBound * dim)..<(range.upperBound * dim)]),
                                                        Array(o2[(range.lowerBound * dim)..<(range.upperBound * dim)])),
                                     "\(set) heads \(range) \(heads)/\(kv)/\(dim) p=\(p)")
                    }
                }
                // Against Double, head 1 output element 3.
                let h = 1, g = h / (heads / kv), start = window.map { max(0, p - $0 + 1) } ?? 0
                var scores = [Double]()
                for t in start...p {
                    var s = 0.0
                    for d in 0..<dim { s += Double(q[h * dim + d]) * Double(keys[t * shape.kvStride + g * dim + d]) }
                    scores.append(s / Double(dim).squareRoot())
                }
                let m = scores.max()!
                let e = scores.map { Foundation.exp($0 - m) }, z = e.reduce(0, +)
                var want = 0.0
                for (i, t) in (start...p).enumerated() { want += e[i] * Double(values[t * shape.kvStride + g * dim + 3]) }
                XCTAssertEqual(Double(o1[h * dim + 3]), want / z, accuracy: 1e-5)
            }
        }
        XCTAssertThrowsError(try AttentionShape(heads: 9, kvHeads: 2, headDimension: 64, scale: 1))
    }

    /// The same cache contents give the same bits whether the cache was longer (filled by a
    /// prefill beyond the query) or exactly up to the query.
    func testAttentionIgnoresLaterCacheEntries() throws {
        var rng = SplitMix(14)
        let shape = try AttentionShape(heads: 4, kvHeads: 2, headDimension: 32, scale: 0.17)
        let keys = (0..<(50 * shape.kvStride)).map { _ in rng.uniform(-2, 2) }
        let values = (0..<(50 * shape.kvStride)).map { _ in rng.uniform(-2, 2) }
        let q = (0..<(4 * 32)).map { _ in rng.uniform(-2, 2) }
        var full = [Float](repeating: 0, count: 128), short = full
        var scratch = [Float](repeating: 0, count: Attention.scratchCount(position: 50, heads: 4))
        Attention.attend(query: q, keys: keys, values: values, position: 33, shape: shape, output: &full, scratch: &scratch)
        let k2 = Array(keys[0..<(34 * shape.kvStride)]), v2 = Array(values[0..<(34 * shape.kvStride)])
        Attention.attend(query: q, keys: k2, values: v2, position: 33, shape: shape, output: &short, scratch: &scratch)
        XCTAssertEqual(bits(full), bits(short))
    }
}
