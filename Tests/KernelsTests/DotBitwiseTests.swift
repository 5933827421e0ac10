// Every kernel set this machine can run equals the reference path bit for bit, for every format,
// over thousands of random blocks with extreme scales; and the result of one output element never
// depends on the thread count or on how many vectors are multiplied together.
import XCTest
@testable import Kernels

final class DotBitwiseTests: XCTestCase {
    func testEverySetEqualsReferenceOnRandomBlocks() throws {
        XCTAssertFalse(fastSets.isEmpty, "the portable set runs everywhere")
        print("kernel sets checked against the reference: \(fastSets.map(\.name))")
        var rng = SplitMix(0x5EED)
        for format in WeightFormat.allCases {
            var checked = 0
            for trial in 0..<40 {
                let columns = format.blockSize == 256 ? 256 * (1 + trial % 5) : (format.blockSize == 32 ? 32 * (1 + trial % 23) : 1 + trial * 7)
                let rows = 1 + rng.int(24)   // partial tiles of 8 too
                let vectors = 1 + rng.int(9)   // one, and groups of four with every remainder
                let w = rng.blocks(format, count: rows * columns / format.blockSize)
                let x = (0..<(vectors * columns)).map { _ in rng.activation() }
                let reference = try product(format, w, rows: rows, columns: columns, input: x, vectors: vectors, kernels: .reference)
                for set in fastSets {
                    let fast = try product(format, w, rows: rows, columns: columns, input: x, vectors: vectors, kernels: set)
                    if let diff = firstBitDifference(fast, reference) {
                        XCTFail("\(set) \(format) \(rows)x\(columns), \(vectors) vectors: \(diff)")
                        return
                    }
                }
                checked += rows * columns / format.blockSize
            }
            XCTAssertGreaterThan(checked, 1000, "\(format)")
        }
    }

    /// Every weight and activation at its extreme (all nibbles 15, activations at ±amax) so the
    /// integer sums reach their bounds, including the 16-bit partial sums of the SIMD sets.
    func testExtremeBlocks() throws {
        for format in WeightFormat.allCases where format.quantizesActivations {
            let columns = format.blockSize * 4
            for pattern: UInt8 in [0x00, 0xFF, 0x80, 0x7F, 0x88] {
                // 9 rows: a whole tile of 8 and a partial one.
                var w = [UInt8](repeating: pattern, count: 9 * columns / format.blockSize * format.blockBytes)
                for b in 0..<(w.count / format.blockBytes) {
                    let o = b * format.blockBytes + (format == .q6_K ? 208 : 0)
                    w[o] = 0xFF; w[o + 1] = 0x7B // 65504
                    if format == .q6_K { for i in 192..<208 { w[b * 210 + i] = pattern == 0x80 ? 0x80 : 0x7F } }
                }
                for sign: Float in [1, -1] {
                    // 13 vectors: a group of 8, one of 4 and a single one.
                    let x = (0..<(13 * columns)).map { sign * ($0 % 2 == 0 ? 3.0e3 : -3.0e3) * ($0 % 7 == 0 ? -1 : 1) }
                    let reference = try product(format, w, rows: 9, columns: columns, input: x, vectors: 13, kernels: .reference)
                    for set in fastSets {
                        let fast = try product(format, w, rows: 9, columns: columns, input: x, vectors: 13, kernels: set)
                        XCTAssertNil(firstBitDifference(fast, reference), "\(set) \(format) pattern \(pattern)")
                    }
                }
            }
        }
    }

    func testThreadCountAndBatchDoNotChangeBits() throws {
        var rng = SplitMix(42)
        let pools = [ThreadPool(threads: 1), ThreadPool(threads: 2), ThreadPool(threads: 3)]
        for set in KernelSet.supported {
            for format in WeightFormat.allCases {
                let columns = format.blockSize == 256 ? 512 : 96
                let rows = 67
                let w = rng.blocks(format, count: rows * columns / format.blockSize)
                let x = (0..<(13 * columns)).map { _ in rng.activation() }
                let alone = try pools.map { pool in
                    try (0..<13).map { v in
                        try product(format, w, rows: rows, columns: columns, input: Array(x[(v * columns)..<((v + 1) * columns)]),
                                    vectors: 1, pool: pool, kernels: set)
                    }
                }
                // Batches that take every path of the tile kernels: unpaired and paired tiles, and
                // groups of 8, 4, 3, 2 and 1 vectors.
                for count in [2, 3, 5, 13] {
                    let batched = try product(format, w, rows: rows, columns: columns, input: Array(x[0..<(count * columns)]),
                                              vectors: count, pool: pools[1], kernels: set)
                    for (p, pool) in pools.enumerated() {
                        for v in 0..<count {
                            XCTAssertNil(firstBitDifference(alone[p][v], Array(batched[(v * rows)..<((v + 1) * rows)])),
                                         "\(set) \(format), \(pool.threads) threads, vector \(v) of \(count)")
                        }
                    }
                }
            }
        }
    }

    /// Each set's activation quantizer rounds exactly as the reference, on ordinary, tiny,
    /// subnormal, huge, zero and non-finite blocks.
    func testQuantizersEqualReference() throws {
        var rng = SplitMix(3)
        var x: [Float] = []
        for kind in 0..<14 {
            for i in 0..<256 {
                switch kind {
                case 0: x.append(0)
                case 1: x.append(rng.uniform(-1e-30, 1e-30))
                case 2: x.append(Float(bitPattern: UInt32(rng.int(8))) * (i % 2 == 0 ? 1 : -1))   // subnormal amax
                case 3: x.append(i == 17 ? .infinity : rng.uniform(-1, 1))
                case 4: x.append(i == 200 ? .nan : rng.uniform(-1, 1))
                case 5: x.append(rng.uniform(-3e38, 3e38))
                case 6: x.append(Float(i % 5) - 2)   // ties at .5 after scaling
                case 7: x.append(i % 32 == 0 ? 0 : -0.0)
                default: x.append(rng.activation())
                }
            }
        }
        for format in [WeightFormat.q4_0, .q4_K] {
            let reference = QuantizedActivations()
            try x.withUnsafeBufferPointer { try reference.prepare($0, vectors: 14, columns: 256, for: format, kernels: .reference) }
            for set in fastSets {
                let fast = QuantizedActivations()
                try x.withUnsafeBufferPointer { try fast.prepare($0, vectors: 14, columns: 256, for: format, kernels: set) }
                let n = x.count
                XCTAssertEqual(Array(UnsafeBufferPointer(start: fast.values, count: n)),
                               Array(UnsafeBufferPointer(start: reference.values, count: n)), "\(set) \(format) values")
                let blocks = n / format.blockSize
                XCTAssertEqual(bits(Array(UnsafeBufferPointer(start: fast.scales, count: blocks))),
                               bits(Array(UnsafeBufferPointer(start: reference.scales, count: blocks))), "\(set) \(format) scales")
                XCTAssertEqual(Array(UnsafeBufferPointer(start: fast.sums16, count: n / 16)),
                               Array(UnsafeBufferPointer(start: reference.sums16, count: n / 16)), "\(set) \(format) sums16")
                XCTAssertEqual(Array(UnsafeBufferPointer(start: fast.sums32, count: n / 32)),
                               Array(UnsafeBufferPointer(start: reference.sums32, count: n / 32)), "\(set) \(format) sums32")
                XCTAssertEqual(bits(Array(UnsafeBufferPointer(start: fast.scaledSums, count: n / 32))),
                               bits(Array(UnsafeBufferPointer(start: reference.scaledSums, count: n / 32))), "\(set) \(format) scaled sums")
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
            let got = try product(format, w, rows: rows, columns: columns, input: x, vectors: 1, kernels: .reference)
            for r in 0..<rows {
                let row = try dequantizedRow(format, w, rows: rows, columns: columns, row: r)
                var exact = 0.0, magnitude = 0.0
                for k in 0..<columns { exact += Double(row[k]) * Double(x[k]); magnitude += abs(Double(row[k]) * Double(x[k])) }
                XCTAssertEqual(Double(got[r]), exact, accuracy: 0.02 * magnitude + 1e-6, "\(format) row \(r)")
            }
        }
    }

    func testKernelSetSelection() throws {
        XCTAssertEqual(try KernelSet.named("reference"), .reference)
        XCTAssertEqual(try KernelSet.named("portable").name, "portable")
        XCTAssertThrowsError(try KernelSet.named("avx9000"))
        XCTAssertTrue(KernelSet.supported.contains(KernelSet.selected))
        #if arch(x86_64)
        // The CPUs the package builds for (-target-cpu haswell) all have AVX2; the AVX-512 sets
        // are offered exactly when the kernel reports every feature they use.
        let names = KernelSet.supported.map(\.name)
        XCTAssertTrue(names.contains("avx2"))
        #if os(Linux)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flagsLine = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let avx512 = ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains)
        let vnni = avx512 && flags.contains("avx512_vnni")
        XCTAssertEqual(names.contains("avx512"), avx512)
        XCTAssertEqual(names.contains("avx512vnni"), vnni)
        XCTAssertEqual(names.last, vnni ? "avx512vnni" : avx512 ? "avx512" : "avx2")
        #endif
        #endif
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
