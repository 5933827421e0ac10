// One function per (format, path) computing the dot of one weight row with one prepared vector.
// The matmul picks it once per call; each output element is one call, on one thread.

/// The dot of a weight row (`columns` elements) with one prepared input vector.
typealias RowDotFunction = (_ row: UnsafeRawPointer, _ columns: Int, _ input: ActivationView) -> Float

enum RowDot {
    static func function(for format: WeightFormat, path: KernelPath) -> RowDotFunction {
        switch (format, path) {
        case (.q4_0, .vectorized): return { Q4.dot0($0, blocks: $1 / 32, $2) }
        case (.q4_0, .reference): return { Q4.dot0Reference($0, blocks: $1 / 32, $2) }
        case (.q4_1, .vectorized): return { Q4.dot1($0, blocks: $1 / 32, $2) }
        case (.q4_1, .reference): return { Q4.dot1Reference($0, blocks: $1 / 32, $2) }
        case (.q5_0, .vectorized): return { Q5.dot0($0, blocks: $1 / 32, $2) }
        case (.q5_0, .reference): return { Q5.dot0Reference($0, blocks: $1 / 32, $2) }
        case (.q5_1, .vectorized): return { Q5.dot1($0, blocks: $1 / 32, $2) }
        case (.q5_1, .reference): return { Q5.dot1Reference($0, blocks: $1 / 32, $2) }
        case (.q8_0, .vectorized): return { Q8.dot0($0, blocks: $1 / 32, $2) }
        case (.q8_0, .reference): return { Q8.dot0Reference($0, blocks: $1 / 32, $2) }
        case (.q4_K, .vectorized): return { QK.dot4($0, blocks: $1 / 256, $2) }
        case (.q4_K, .reference): return { QK.dotReference($0, blocks: $1 / 256, five: false, $2) }
        case (.q5_K, .vectorized): return { QK.dot5($0, blocks: $1 / 256, $2) }
        case (.q5_K, .reference): return { QK.dotReference($0, blocks: $1 / 256, five: true, $2) }
        case (.q6_K, .vectorized): return { Q6K.dot($0, blocks: $1 / 256, $2) }
        case (.q6_K, .reference): return { Q6K.dotReference($0, blocks: $1 / 256, $2) }
        case (.f32, .vectorized), (.f16, .vectorized), (.bf16, .vectorized):
            return { FloatWeights.dot(format, $0, $2.floats, $1) }
        case (.f32, .reference), (.f16, .reference), (.bf16, .reference):
            return { FloatWeights.dotReference(format, $0, $2.floats, $1) }
        }
    }
}
