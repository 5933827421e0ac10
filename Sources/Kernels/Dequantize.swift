// Dequantization of whole rows, per format, from the decoded blocks (BlockLayouts.swift). It is
// also the model's path for embedding lookups, so it is deterministic like everything else: one
// fixed formula per element.

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
        guard format.quantizesActivations else { return FloatWeights.dequantize(format, bytes, columns, o) }
        let n = format.blockSize
        BlockFields.withScratch { f in
            for b in 0..<(columns / n) {
                BlockLayout.decode(format, bytes + b * format.blockBytes, into: &f)
                values(format, f, o + b * n)
            }
        }
    }

    /// The floats of one decoded block.
    static func values(_ format: WeightFormat, _ f: BlockFields, _ out: UnsafeMutablePointer<Float>) {
        let d = Half.float(fromF16: f.d), m = Half.float(fromF16: f.m)
        switch format {
        case .q4_0, .q5_0, .q8_0:
            for i in 0..<32 { out[i] = Float(BlockLayout.signedQuant(format, f.q[i])) * d }
        case .q4_1, .q5_1:
            for i in 0..<32 { out[i] = m.addingProduct(d, Float(f.q[i])) }
        case .q4_K, .q5_K:
            for j in 0..<8 {
                let scale = d * Float(f.scales[j]), offset = -(m * Float(f.mins[j]))
                for l in 0..<32 { out[32 * j + l] = offset.addingProduct(scale, Float(f.q[32 * j + l])) }
            }
        case .q6_K:
            for e in 0..<256 { out[e] = (d * Float(f.scales[e / 16])) * Float(BlockLayout.signedQuant(format, f.q[e])) }
        case .f32, .f16, .bf16:
            break
        }
    }
}
