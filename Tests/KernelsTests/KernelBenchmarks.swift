// Micro-benchmark of the matrix products: prints µs per call, GB/s of weight bytes read and
// GFLOP/s per format, for one vector (decode) and 64 vectors (prefill or batched decode), at 1
// and 2 threads, on the shapes of SmolLM2-135M and Qwen2.5-0.5B. Not a timed assertion.
// Run: REPROLM_BENCH=1 swift test --scratch-path .build-kernels -c release --filter KernelBenchmarks
// (testAttentionThroughput alone: attention of decode rows over caches in memory and in L2).
// (REPROLM_BENCH_FORMATS=q4_1,q8_0 and REPROLM_BENCH_VECTORS=1,2,4,8 narrow it).
// One-vector runs cycle through copies of the matrix larger than the caches, so they read from
// memory as decode does; 64-vector runs are compute-bound.
import XCTest
import Foundation
@testable import Kernels

final class KernelBenchmarks: XCTestCase {
    func testMatmulThroughput() throws {
        guard ProcessInfo.processInfo.environment["REPROLM_BENCH"] == "1" else {
            throw XCTSkip("set REPROLM_BENCH=1 to run the kernel benchmark")
        }
        let shapes = [(1536, 576), (576, 1536), (49152, 576), (896, 4864), (4864, 896)]   // (rows, columns)
        let formats: [WeightFormat] = ProcessInfo.processInfo.environment["REPROLM_BENCH_FORMATS"].map {
            $0.split(separator: ",").compactMap { name in WeightFormat.allCases.first { "\($0)" == name } }
        } ?? [.q4_1, .q4_0, .q5_0, .q8_0, .q4_K, .q5_K, .q6_K, .f16, .f32]
        let vectorCounts = ProcessInfo.processInfo.environment["REPROLM_BENCH_VECTORS"].map {
            $0.split(separator: ",").compactMap { Int($0) }
        } ?? [1, 64]
        let pools = [ThreadPool(threads: 1), ThreadPool(threads: 2)]
        var rng = SplitMix(99)
        print("format  rows x cols    vectors threads      µs/call    GB/s  GFLOP/s")
        for format in formats {
            for (rows, columns) in shapes where columns % format.blockSize == 0 {
                let bytes = rows * (try format.rowBytes(columns: columns))
                let copies = max(1, (96 << 20) / bytes)
                let block = rng.blocks(format, count: rows * columns / format.blockSize)
                let storage = UnsafeMutableRawPointer.allocate(byteCount: bytes * copies, alignment: 64)
                defer { storage.deallocate() }
                for c in 0..<copies { block.withUnsafeBytes { storage.advanced(by: c * bytes).copyMemory(from: $0.baseAddress!, byteCount: bytes) } }
                let matrices = try (0..<copies).map {
                    try QuantizedMatrix(format: format, rows: rows, columns: columns,
                                        bytes: UnsafeRawBufferPointer(start: storage + $0 * bytes, count: bytes)).tiled()
                }
                for vectors in vectorCounts {
                    let x = (0..<(vectors * columns)).map { _ in rng.uniform(-1, 1) }
                    var out = [Float](repeating: 0, count: vectors * rows)
                    let input = QuantizedActivations()
                    for pool in pools {
                        var calls = 0
                        let start = Date()
                        var elapsed = 0.0
                        while elapsed < 0.4 || calls < 3 {
                            try x.withUnsafeBufferPointer { xb in
                                try out.withUnsafeMutableBufferPointer { ob in
                                    try Matmul.multiply(matrices[calls % copies], input: xb, vectors: vectors, output: ob,
                                                        pool: pool, scratch: input)
                                }
                            }
                            calls += 1
                            elapsed = Date().timeIntervalSince(start)
                        }
                        let perCall = elapsed / Double(calls)
                        let gbs = Double(bytes) / perCall / 1e9
                        let gflops = 2 * Double(rows * columns * vectors) / perCall / 1e9
                        print(String(format: "%-6@ %6d x %-6d %4d %6d %12.1f %7.2f %8.2f", "\(format)", rows, columns,
                                     vectors, pool.threads, perCall * 1e6, gbs, gflops))
                    }
                }
            }
        }
    }
    /// Attention of one decode row per sequence at `position` (SmolLM2-135M's heads), over 30
    /// layers × 8 sequences of distinct F32 caches (too large for the caches, as batched decode
    /// reads them) and over one cache that stays in L2: µs per row-layer and GB/s of keys and
    /// values read, one thread.
    func testAttentionThroughput() throws {
        guard ProcessInfo.processInfo.environment["REPROLM_BENCH"] == "1" else {
            throw XCTSkip("set REPROLM_BENCH=1 to run the kernel benchmark")
        }
        let shape = try AttentionShape(heads: 9, kvHeads: 3, headDimension: 64, scale: 0.125)
        let position = 255, capacity = 512
        var rng = SplitMix(7)
        print("attention caches position   µs/row-layer   GB/s")
        for caches in [240, 1] {
            let floats = capacity * shape.kvStride
            let keys = UnsafeMutablePointer<Float>.allocate(capacity: caches * floats)
            let values = UnsafeMutablePointer<Float>.allocate(capacity: caches * floats)
            defer { keys.deallocate(); values.deallocate() }
            for i in 0..<(caches * floats) { keys[i] = rng.uniform(-1, 1); values[i] = rng.uniform(-1, 1) }
            let query = (0..<(shape.heads * 64)).map { _ in rng.uniform(-1, 1) }
            var output = [Float](repeating: 0, count: shape.heads * 64)
            var scratch = [Float](repeating: 0, count: Attention.scratchCount(position: position, heads: shape.heads))
            var calls = 0
            let start = Date()
            var elapsed = 0.0
            while elapsed < 0.5 || calls < caches {
                let c = calls % caches
                query.withUnsafeBufferPointer { q in
                    output.withUnsafeMutableBufferPointer { o in
                        scratch.withUnsafeMutableBufferPointer { s in
                            Attention.attend(query: q.baseAddress!, keys: keys + c * floats, values: values + c * floats,
                                             position: position, shape: shape, output: o.baseAddress!, scratch: s.baseAddress!)
                        }
                    }
                }
                calls += 1
                if calls % 64 == 0 { elapsed = Date().timeIntervalSince(start) }
            }
            elapsed = Date().timeIntervalSince(start)
            let perCall = elapsed / Double(calls)
            let bytes = 2 * (position + 1) * shape.kvStride * 4
            print(String(format: "attention %6d %8d %14.2f %6.2f", caches, position, perCall * 1e6, Double(bytes) / perCall / 1e9))
        }
    }
}
