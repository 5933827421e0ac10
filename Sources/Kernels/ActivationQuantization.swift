// Activation quantization: the float input of a quantized matmul is cut into blocks of 32 or 256
// values and rounded to 8 bits once per call (Kernels.swift, order 1), as llama.cpp does with its
// Q8_0 / Q8_K blocks, so every weight block's dot product is an exact integer. Kept beside the
// int8 values: exact sums per 16 and per 32 values (the K-quant mins and Q6_K's -32 offset use
// them) and, for 32-blocks, scale * sum (the Q4_1/Q5_1 min term).
import CKernels

/// Input vectors prepared for matrix products: quantized to 8-bit blocks for the quantized
/// formats, copied as floats for F32/F16/BF16. Reusable: `prepare` keeps its buffers when they
/// are large enough, so a model can quantize one input once for several matrices (Q, K and V).
public final class QuantizedActivations: @unchecked Sendable {
    /// How many vectors, each of `columns` values.
    public private(set) var vectors = 0
    public private(set) var columns = 0
    /// 32 or 256 for quantized values, 1 for float copies.
    public private(set) var blockSize = 0

    var values = UnsafeMutablePointer<Int8>.allocate(capacity: 0)
    var scales = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var sums16 = UnsafeMutablePointer<Int16>.allocate(capacity: 0)
    var sums32 = UnsafeMutablePointer<Int16>.allocate(capacity: 0)
    var scaledSums = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var floats = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private var valueCapacity = 0
    private var floatCapacity = 0

    public init() {}

    deinit {
        values.deallocate(); scales.deallocate(); sums16.deallocate(); sums32.deallocate()
        scaledSums.deallocate(); floats.deallocate()
    }

    /// Prepares `vectors` rows of `columns` floats (row-major in `input`) for products with
    /// weights of `format`, quantizing with `kernels`' quantizer (every set rounds the same).
    public func prepare(_ input: UnsafeBufferPointer<Float>, vectors: Int, columns: Int, for format: WeightFormat,
                        kernels: KernelSet = .selected) throws {
        guard vectors > 0, columns > 0 else { throw KernelError.badShape("\(vectors) vectors of \(columns)") }
        let (count, overflow) = vectors.multipliedReportingOverflow(by: columns)
        guard !overflow, input.count == count, let x = input.baseAddress else {
            throw KernelError.sizeMismatch(what: "input", expected: overflow ? -1 : count, actual: input.count)
        }
        let block = format.blockSize
        guard columns % block == 0 else {
            throw KernelError.badShape("\(columns) columns is not a multiple of \(block) for \(format)")
        }
        fill(x, count: count, vectors: vectors, columns: columns, block: block, kernels: kernels)
    }

    // Non-throwing worker: see Dequantize.decode for why throwing functions stay small.
    @inline(never)
    private func fill(_ x: UnsafePointer<Float>, count: Int, vectors: Int, columns: Int, block: Int, kernels: KernelSet) {
        self.vectors = vectors
        self.columns = columns
        self.blockSize = block
        if block == 1 {
            if floatCapacity < count {
                floats.deallocate()
                floats = .allocate(capacity: count)
                floatCapacity = count
            }
            floats.update(from: x, count: count)
            return
        }
        reserve(count)
        if let set = kernels.cSet {
            set.pointee.quantize(x, Int64(vectors), Int64(columns), Int64(block), values, scales, sums16, sums32, scaledSums)
            return
        }
        for b in 0..<(count / block) {
            scales[b] = ActivationQuantization.quantizeBlock(x + b * block, count: block, into: values + b * block)
        }
        for g in 0..<(count / 16) {
            var s: Int32 = 0
            for j in 0..<16 { s += Int32(values[16 * g + j]) }
            sums16[g] = Int16(s)
        }
        for g in 0..<(count / 32) {
            let s = Int32(sums16[2 * g]) + Int32(sums16[2 * g + 1])
            sums32[g] = Int16(s)
            scaledSums[g] = scales[g * 32 / block] * Float(s)
        }
    }

    private func reserve(_ count: Int) {
        guard valueCapacity < count else { return }
        values.deallocate(); scales.deallocate(); sums16.deallocate(); sums32.deallocate(); scaledSums.deallocate()
        values = .allocate(capacity: count)
        scales = .allocate(capacity: count / 32)
        sums16 = .allocate(capacity: count / 16)
        sums32 = .allocate(capacity: count / 32)
        scaledSums = .allocate(capacity: count / 32)
        valueCapacity = count
    }

    /// The view of vector `v` that the reference dots read.
    @inline(__always)
    func view(_ v: Int) -> ActivationView {
        let offset = v * columns
        return ActivationView(values: values + offset,
                              scales: scales + offset / max(blockSize, 1),
                              sums32: sums32 + offset / 32,
                              scaledSums: scaledSums + offset / 32,
                              floats: floats + offset)
    }

    /// The C kernels' view of all the vectors.
    var cView: rl_activations {
        rl_activations(q: values, scale: scales, sum16: sums16, sum32: sums32, scaled_sum: scaledSums,
                       columns: Int64(columns), block: Int64(blockSize))
    }
}

/// One quantized vector as the reference dots see it (pointers into a `QuantizedActivations`).
struct ActivationView {
    /// Quantized values in [-127, 127], one per column.
    let values: UnsafePointer<Int8>
    /// One per activation block (32 or 256 columns).
    let scales: UnsafePointer<Float>
    /// Exact Σ values per 32 columns.
    let sums32: UnsafePointer<Int16>
    /// scale * Float(sum) per 32 columns (32-blocks: the Q4_1/Q5_1 min term).
    let scaledSums: UnsafePointer<Float>
    /// The unquantized input (float formats only).
    let floats: UnsafePointer<Float>
}

/// The rounding of one activation block: the reference every kernel set's quantizer matches.
public enum ActivationQuantization {
    /// Quantizes `count` floats to integers in [-127, 127] stored in `q`; returns the scale.
    /// amax == 0 gives zeros and scale 0; a non-finite amax gives zeros and scale NaN.
    @inline(__always)
    public static func quantizeBlock(_ x: UnsafePointer<Float>, count: Int, into q: UnsafeMutablePointer<Int8>) -> Float {
        var amax: Float = 0
        var bad = false
        for j in 0..<count {
            let a = abs(x[j])
            amax = a > amax ? a : amax
            bad = bad || !(a <= Float.greatestFiniteMagnitude)
        }
        if amax == 0 || bad {
            q.update(repeating: 0, count: count)
            return bad ? .nan : 0
        }
        let inverse = 127 / amax
        for j in 0..<count {
            var v = x[j] * inverse
            v = v > 127 ? 127 : v
            v = v < -127 ? -127 : v
            q[j] = roundToInt8(v)
        }
        return amax / 127
    }

    /// Round to nearest even for |v| <= 2^22 by the 1.5 * 2^23 trick: pure IEEE additions, so
    /// scalar and vector code round identically and nothing can trap (a NaN, from 0 times an
    /// infinite inverse, gives 0).
    @inline(__always)
    static func roundToInt8(_ v: Float) -> Int8 {
        let shifted = v + 12_582_912.0
        return Int8(truncatingIfNeeded: Int16(truncatingIfNeeded: Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000))
    }
}
