// Reference dequantization of whole rows, per format. It is also the model's path for embedding
// lookups, so it is deterministic like everything else (one fixed formula per element).

/// Row dequantization for every weight format.
public enum Dequantize {
    /// Decodes `columns` elements of one row (`bytes` must hold a whole row) into `out`.
    public static func row(format: WeightFormat, bytes: UnsafeRawPointer, columns: Int,
                           into out: UnsafeMutableBufferPointer<Float>) throws {
        _ = try format.rowBytes(columns: columns)
        guard out.count >= columns, let o = out.baseAddress else {
            throw KernelError.sizeMismatch(what: "dequantize output", expected: columns, actual: out.count)
        }
        decode(format, bytes, columns, o)
    }

    // Kept out of the throwing function: swiftc 6.3.1 with -target-cpu haswell and -wmo
    // miscompiled a throwing function whose body held these loops (the error register came back
    // non-zero without an error), so every throwing entry point here validates, then calls a
    // non-throwing worker.
    @inline(never)
    static func decode(_ format: WeightFormat, _ bytes: UnsafeRawPointer, _ columns: Int, _ o: UnsafeMutablePointer<Float>) {
        let blocks = columns / format.blockSize
        let size = format.blockBytes, n = format.blockSize
        switch format {
        case .f32, .f16, .bf16: FloatWeights.dequantize(format, bytes, columns, o)
        case .q4_0: for b in 0..<blocks { Q4.dequantize0(bytes + b * size, o + b * n) }
        case .q4_1: for b in 0..<blocks { Q4.dequantize1(bytes + b * size, o + b * n) }
        case .q5_0: for b in 0..<blocks { Q5.dequantize0(bytes + b * size, o + b * n) }
        case .q5_1: for b in 0..<blocks { Q5.dequantize1(bytes + b * size, o + b * n) }
        case .q8_0: for b in 0..<blocks { Q8.dequantize0(bytes + b * size, o + b * n) }
        case .q4_K: for b in 0..<blocks { QK.dequantize(bytes + b * size, five: false, o + b * n) }
        case .q5_K: for b in 0..<blocks { QK.dequantize(bytes + b * size, five: true, o + b * n) }
        case .q6_K: for b in 0..<blocks { Q6K.dequantize(bytes + b * size, o + b * n) }
        }
    }
}
