// Activation quantization: the float input of a quantized matmul is cut into blocks of 32 or 256
// values and rounded to 8 bits once per call (DESIGN: Kernels.swift, order 1), as llama.cpp does
// with its Q8_0 / Q8_K blocks, so every weight block's dot product is an exact integer.
// The int8 values are stored widened to Int16: the vectorised dots then multiply int16 lanes
// (vpmaddwd) without a per-block sign extension.

/// Input vectors prepared for matrix products: quantized to 8-bit blocks for the quantized
/// formats, copied as floats for F32/F16/BF16. Reusable: `prepare` keeps its buffers when they
/// are large enough, so a model can quantize one input once for several matrices (Q, K and V).
public final class QuantizedActivations: @unchecked Sendable {
    /// How many vectors, each of `columns` values.
    public private(set) var vectors = 0
    public private(set) var columns = 0
    /// 32 or 256 for quantized values, 1 for float copies.
    public private(set) var blockSize = 0

    var values = UnsafeMutablePointer<Int16>.allocate(capacity: 0)
    var scales = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var sums = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
    var scaledSums = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    var floats = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private var valueCapacity = 0
    private var floatCapacity = 0

    public init() {}

    deinit {
        values.deallocate(); scales.deallocate(); sums.deallocate(); scaledSums.deallocate(); floats.deallocate()
    }

    /// Prepares `vectors` rows of `columns` floats (row-major in `input`) for products with
    /// weights of `format`.
    public func prepare(_ input: UnsafeBufferPointer<Float>, vectors: Int, columns: Int, for format: WeightFormat) throws {
        guard vectors > 0, columns > 0 else { throw KernelError.badShape("\(vectors) vectors of \(columns)") }
        let (count, overflow) = vectors.multipliedReportingOverflow(by: columns)
        guard !overflow, input.count == count, let x = input.baseAddress else {
            throw KernelError.sizeMismatch(what: "input", expected: overflow ? -1 : count, actual: input.count)
        }
        let block = format.blockSize
        guard columns % block == 0 else {
            throw KernelError.badShape("\(columns) columns is not a multiple of \(block) for \(format)")
        }
        fill(x, count: count, vectors: vectors, columns: columns, block: block)
    }

    // Non-throwing worker: see Dequantize.decode for why throwing functions stay small.
    @inline(never)
    private func fill(_ x: UnsafePointer<Float>, count: Int, vectors: Int, columns: Int, block: Int) {
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
        let blocks = count / block
        for b in 0..<blocks {
            scales[b] = ActivationQuantization.quantizeBlock(x + b * block, count: block, into: values + b * block)
        }
        for g in 0..<(count / 32) {
            let s = ActivationQuantization.sum32(values + g * 32)
            sums[g] = s
            scaledSums[g] = scales[g * 32 / block] * Float(s)
        }
    }

    private func reserve(_ count: Int) {
        guard valueCapacity < count else { return }
        values.deallocate(); scales.deallocate(); sums.deallocate(); scaledSums.deallocate()
        values = .allocate(capacity: count)
        scales = .allocate(capacity: count / 32)
        sums = .allocate(capacity: count / 32)
        scaledSums = .allocate(capacity: count / 32)
        valueCapacity = count
    }

    /// The view of vector `v` that the row dots read.
    @inline(__always)
    func view(_ v: Int) -> ActivationView {
        let offset = v * columns
        return ActivationView(values: values + offset,
                              scales: scales + offset / max(blockSize, 1),
                              sums: sums + offset / 32,
                              scaledSums: scaledSums + offset / 32,
                              floats: floats + offset)
    }
}

/// One quantized vector as the row dots see it (pointers into a `QuantizedActivations`).
struct ActivationView {
    /// Quantized values in [-127, 127], one per column.
    let values: UnsafePointer<Int16>
    /// One per activation block (32 or 256 columns).
    let scales: UnsafePointer<Float>
    /// Exact Σ values per 32 columns.
    let sums: UnsafePointer<Int32>
    /// scale * Float(sum) per 32 columns (32-blocks: the Q4_1/Q5_1 min term).
    let scaledSums: UnsafePointer<Float>
    /// The unquantized input (float formats only).
    let floats: UnsafePointer<Float>
}

/// The rounding of one activation block, shared by every path.
public enum ActivationQuantization {
    /// Quantizes `count` floats to integers in [-127, 127] stored in `q`; returns the scale.
    /// amax == 0 gives zeros and scale 0; a non-finite amax gives zeros and scale NaN.
    @inline(__always)
    public static func quantizeBlock(_ x: UnsafePointer<Float>, count: Int, into q: UnsafeMutablePointer<Int16>) -> Float {
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
            q[j] = roundToInt16(v)
        }
        return amax / 127
    }

    /// Round to nearest even for |v| <= 2^22 by the 1.5 * 2^23 trick: pure IEEE additions, so
    /// scalar and vector code round identically and nothing can trap.
    @inline(__always)
    static func roundToInt16(_ v: Float) -> Int16 {
        let shifted = v + 12_582_912.0
        return Int16(truncatingIfNeeded: Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000)
    }

    @inline(__always)
    static func sum32(_ q: UnsafePointer<Int16>) -> Int32 {
        var s: Int32 = 0
        for j in 0..<32 { s &+= Int32(q[j]) }
        return s
    }
}
