// The vectorised path equals the reference path bit for bit, for every format, over thousands of
// random blocks with extreme scales; and the result of one output element never depends on the
// thread count or on how many vectors are multiplied together.
import XCTest
@testable import Kernels

final class DotBitwiseTests: XCTestCase {
    func testVectorizedEqualsReferenceOnRandomBlocks() throws {
        var rng = SplitMix(0x5EED)
        for format in WeightFormat.allCases {
            var checked = 0
            for trial in 0..<40 {
                let columns = format.blockSize == 256 ? 256 * (1 + trial % 5) : (format.blockSize == 32 ? 32 * (1 + trial % 23) : 1 + trial * 7)
                let rows = 1 + rng.int(24)
                let vectors = 1 + rng.int(6)   // up to 6: the one-, panel and four-vector paths
                let w = rng.blocks(format, count: rows * columns / format.blockSize)
                let x = (0..<(vectors * columns)).map { _ in rng.activation() }
                let fast = try product(format, w, rows: rows, columns: columns, input: x, vectors: vectors)
                let reference = try product(format, w, rows: rows, columns: columns, input: x, vectors: vectors, path: .reference)
                if let diff = firstBitDifference(fast, reference) {
                    XCTFail("\(format) \(rows)x\(columns), \(vectors) vectors: \(diff)")
                    break
                }
                checked += rows * columns / format.blockSize
            }
            XCTAssertGreaterThan(checked, 1000, "\(format)")
        }
    }

    /// Every weight and activation at its extreme (all nibbles 15, activations at ±amax) so the
    /// integer sums reach their bounds.
    func testExtremeBlocks() throws {
        for format in WeightFormat.allCases where format.quantizesActivations {
            let columns = format.blockSize * 4
            for pattern: UInt8 in [0x00, 0xFF, 0x80, 0x7F, 0x88] {
                // 9 rows: two 4-row decode groups (RowGroup.swift) and one row alone.
                var w = [UInt8](repeating: pattern, count: 9 * columns / format.blockSize * format.blockBytes)
                for b in 0..<(w.count / format.blockBytes) {
                    let o = b * format.blockBytes + (format == .q6_K ? 208 : 0)
                    w[o] = 0xFF; w[o + 1] = 0x7B // 65504
                    if format == .q6_K { for i in 192..<208 { w[b * 210 + i] = pattern == 0x80 ? 0x80 : 0x7F } }
                }
                for sign: Float in [1, -1] {
                    let x = (0..<columns).map { sign * ($0 % 2 == 0 ? 3.0e3 : -3.0e3) }
                    let fast = try product(format, w, rows: 9, columns: columns, input: x, vectors: 1)
                    let reference = try product(format, w, rows: 9, columns: columns, input: x, vectors: 1, path: .reference)
                    XCTAssertNil(firstBitDifference(fast, reference), "\(format) pattern \(pattern)")
                }
            }
        }
    }

    func testThreadCountAndBatchDoNotChangeBits() throws {
        var rng = SplitMix(42)
        let pools = [ThreadPool(threads: 1), ThreadPool(threads: 2), ThreadPool(threads: 3)]
        for format in WeightFormat.allCases {
            let columns = format.blockSize == 256 ? 512 : 96
            let rows = 67
            let w = rng.blocks(format, count: rows * columns / format.blockSize)
            let x = (0..<(5 * columns)).map { _ in rng.activation() }
            let batched = try product(format, w, rows: rows, columns: columns, input: x, vectors: 5, pool: pools[1])
            for pool in pools {
                for v in 0..<5 {
                    let alone = try product(format, w, rows: rows, columns: columns,
                                            input: Array(x[(v * columns)..<((v + 1) * columns)]), vectors: 1, pool: pool)
                    XCTAssertNil(firstBitDifference(alone, Array(batched[(v * rows)..<((v + 1) * rows)])),
                                 "\(format), \(pool.threads) threads, vector \(v)")
                }
            }
        }
    }

    /// The quantized product stays close to the exact product of the dequantized weights (it
    /// only rounds activations to 8 bits): a layout error would show here.
    func testQuantizedProductApproximatesDequantizedProduct() throws {
        var rng = SplitMix(7)
        for format in WeightFormat.allCases {
            let columns = 1024, rows = 8
            let w = rng.blocks(format, count: rows * columns / format.blockSize).enumerated().map { i, b in
                // Ordinary scales only, so the comparison is meaningful.
                format.blockSize > 1 && isScaleByte(format, i) ? (i % 2 == 0 ? 0x00 : 0x20) : b
            }
            let x = (0..<columns).map { _ in rng.uniform(-1, 1) }
            let got = try product(format, w, rows: rows, columns: columns, input: x, vectors: 1)
            for r in 0..<rows {
                let row = try dequantizedRow(format, w, rows: rows, columns: columns, row: r)
                var exact = 0.0, magnitude = 0.0
                for k in 0..<columns { exact += Double(row[k]) * Double(x[k]); magnitude += abs(Double(row[k]) * Double(x[k])) }
                XCTAssertEqual(Double(got[r]), exact, accuracy: 0.02 * magnitude + 1e-6, "\(format) row \(r)")
            }
        }
    }

    private func isScaleByte(_ format: WeightFormat, _ i: Int) -> Bool {
        let o = i % format.blockBytes
        switch format {
        case .q4_0, .q5_0, .q8_0: return o < 2
        case .q4_1, .q5_1, .q4_K, .q5_K: return o < 4
        case .q6_K: return o >= 208
        default: return false
        }
    }
}
