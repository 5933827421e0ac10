// The reference path of the quantized products: one weight row against one prepared vector,
// block by block as Kernels.swift (order 2) states, from the blocks decoded literally
// (BlockLayouts.swift). Every kernel set is tested against this, bit for bit.

enum ReferenceDot {
    /// The dot of the quantized row at `row` (`blocks` weight blocks of `format`) with `a`.
    static func dot(_ format: WeightFormat, _ row: UnsafeRawPointer, blocks: Int, _ a: ActivationView) -> Float {
        BlockFields.withScratch { f in
            var acc: Float = 0
            for b in 0..<blocks {
                BlockLayout.decode(format, row + b * format.blockBytes, into: &f)
                acc = combine(format, f, block: b, a, acc)
            }
            return acc
        }
    }

    /// One block's exact integer(s) and float step.
    static func combine(_ format: WeightFormat, _ f: BlockFields, block b: Int, _ a: ActivationView, _ acc: Float) -> Float {
        let n = format.blockSize, y = a.values + n * b
        let d = Half.float(fromF16: f.d), scale = a.scales[b]
        switch format {
        case .q4_0, .q5_0, .q8_0:
            var dot: Int32 = 0
            for i in 0..<32 { dot += BlockLayout.signedQuant(format, f.q[i]) * Int32(y[i]) }
            return BlockCombine.symmetric(acc, d: d, scale: scale, dot: dot)
        case .q4_1, .q5_1:
            var dot: Int32 = 0
            for i in 0..<32 { dot += Int32(f.q[i]) * Int32(y[i]) }
            return BlockCombine.withMin(acc, d: d, m: Half.float(fromF16: f.m), scale: scale,
                                        scaledSum: a.scaledSums[b], dot: dot)
        case .q4_K, .q5_K:
            var dot: Int32 = 0, mins: Int32 = 0
            for j in 0..<8 {
                var sub: Int32 = 0
                for l in 0..<32 { sub += Int32(f.q[32 * j + l]) * Int32(y[32 * j + l]) }
                dot += f.scales[j] * sub
                mins += f.mins[j] * Int32(a.sums32[8 * b + j])
            }
            return BlockCombine.withMins(acc, d: d, dmin: Half.float(fromF16: f.m), scale: scale, dot: dot, mins: mins)
        case .q6_K:
            var dot: Int32 = 0
            for j in 0..<16 {
                var sub: Int32 = 0
                for l in 0..<16 { sub += BlockLayout.signedQuant(format, f.q[16 * j + l]) * Int32(y[16 * j + l]) }
                dot += f.scales[j] * sub
            }
            return BlockCombine.symmetric(acc, d: d, scale: scale, dot: dot)
        case .f32, .f16, .bf16:
            return acc
        }
    }
}
