// Shared helpers for the kernel tests: a seeded generator, random blocks for every format, and
// bit-pattern comparisons.
import XCTest
@testable import Kernels

/// SplitMix64: small, seeded, the same on every platform.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    /// Uniform in [0, 1).
    mutating func unit() -> Float { Float(next() >> 40) * 0x1p-24 }
    mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * unit() }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// A finite f16 scale: usually ordinary, sometimes zero, subnormal, huge or negative.
    mutating func halfScale() -> UInt16 {
        switch int(10) {
        case 0: return 0
        case 1: return UInt16(1 + int(0x3FF))                // subnormal
        case 2: return 0x7BFF                                 // 65504, the largest finite
        case 3: return Half.f16(from: -uniform(1e-4, 1e-1))
        default: return Half.f16(from: uniform(1e-5, 5e-2))
        }
    }

    /// An activation value: mostly N(0, 1)-ish, sometimes zero, tiny or large.
    mutating func activation() -> Float {
        switch int(20) {
        case 0: return 0
        case 1: return uniform(-1e-30, 1e-30)
        case 2: return uniform(-3e3, 3e3)
        default: return uniform(-2, 2) * uniform(0, 2)
        }
    }

    /// Random bytes for `blocks` blocks of `format`, with every f16 scale field finite.
    mutating func blocks(_ format: WeightFormat, count blocks: Int) -> [UInt8] {
        var bytes = (0..<(blocks * format.blockBytes)).map { _ in byte() }
        func put(_ offset: Int, _ v: UInt16) { bytes[offset] = UInt8(v & 0xFF); bytes[offset + 1] = UInt8(v >> 8) }
        for b in 0..<blocks {
            let o = b * format.blockBytes
            switch format {
            case .q4_0, .q5_0, .q8_0: put(o, halfScale())
            case .q4_1, .q5_1, .q4_K, .q5_K: put(o, halfScale()); put(o + 2, halfScale())
            case .q6_K: put(o + 208, halfScale())
            case .f16: put(o, Half.f16(from: activation()))
            case .bf16: put(o, Half.bf16(from: activation()))
            case .f32:
                let bits = activation().bitPattern
                for i in 0..<4 { bytes[o + i] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(i))) }
            }
        }
        return bytes
    }
}

func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// The first index where two float arrays differ in bits, for readable failures.
func firstBitDifference(_ a: [Float], _ b: [Float]) -> String? {
    guard a.count == b.count else { return "counts \(a.count) vs \(b.count)" }
    for i in a.indices where a[i].bitPattern != b[i].bitPattern {
        return "index \(i): \(a[i]) (\(String(a[i].bitPattern, radix: 16))) vs \(b[i]) (\(String(b[i].bitPattern, radix: 16)))"
    }
    return nil
}

/// Runs a matmul over Swift arrays with `kernels` (the matrix is tiled first).
func product(_ format: WeightFormat, _ weights: [UInt8], rows: Int, columns: Int, input: [Float], vectors: Int,
             pool: ThreadPool? = nil, kernels: KernelSet = .selected) throws -> [Float] {
    var out = [Float](repeating: .nan, count: rows * vectors)
    try weights.withUnsafeBytes { w in
        let m = try QuantizedMatrix(format: format, rows: rows, columns: columns, bytes: w).tiled()
        try input.withUnsafeBufferPointer { x in
            try out.withUnsafeMutableBufferPointer { o in
                try Matmul.multiply(m, input: x, vectors: vectors, output: o, pool: pool, kernels: kernels)
            }
        }
    }
    return out
}

/// The kernel sets this machine can run besides the reference (each is held to the reference).
var fastSets: [KernelSet] { KernelSet.supported.filter { $0 != .reference } }

/// Row `row` of a matrix, dequantized with the reference decoder.
func dequantizedRow(_ format: WeightFormat, _ weights: [UInt8], rows: Int, columns: Int, row: Int) throws -> [Float] {
    var out = [Float](repeating: 0, count: columns)
    let rowBytes = try format.rowBytes(columns: columns)
    let slice = Array(weights[(row * rowBytes)..<((row + 1) * rowBytes)])
    try slice.withUnsafeBytes { b in
        let m = try QuantizedMatrix(format: format, rows: 1, columns: columns, bytes: b)
        try out.withUnsafeMutableBufferPointer { try m.dequantizeRow(0, into: $0) }
    }
    return out
}
