// Attention of a block of query rows of one head over keys they all see whole (an encoder window:
// every row attends to every position 0..<n). Each row's result is exactly `Attention.attend` at
// position n - 1 for that head (Kernels.swift, order 5: the same scores, max, exp, Z lanes,
// sequential weighted sums and division); the rows are simply treated as the query heads of one
// shared KV head, so each block of keys and values is read once for the whole block. The keys
// come twice: position-major (n × dim), and in transposed blocks of 16 (`transposeKeys`) that a
// kernel set with `attention_scores_transposed` scores without horizontal sums; a set with
// `softmax` also does the numerators in C. Sets without them run Attention's own loops.
import CKernels

/// Attention of query rows that share one head's whole keys and values.
public enum SharedKeyAttention {
    /// Floats of the transposed key blocks of `positions` keys of `dim` elements.
    public static func transposedCount(positions: Int, dim: Int) -> Int { positions / 16 * 16 * dim }

    /// The whole blocks of 16 of the `positions` keys (key t at keys + t * stride, dim floats),
    /// transposed: out[b * dim * 16 + d * 16 + j] = element d of key 16b + j. Keys past the last
    /// whole block are scored from the position-major copy.
    public static func transposeKeys(_ keys: UnsafePointer<Float>, stride: Int, positions: Int, dim: Int,
                                     into out: UnsafeMutablePointer<Float>) {
        for b in 0..<(positions / 16) {
            let block = out + b * dim * 16
            for j in 0..<16 {
                let key = keys + (16 * b + j) * stride
                for d in 0..<dim { block[d * 16 + j] = key[d] }
            }
        }
    }

    /// Floats of `scratch` that `attend` needs for `count` rows over `positions` keys.
    public static func scratchCount(positions: Int, count: Int) -> Int { Attention.scratchCount(position: positions - 1, heads: count) }

    /// `rows`: the block's geometry, one "head" per query row and one KV head; `queries`:
    /// rows.heads × dim floats; `keys`, `values`: positions × dim floats each (position major);
    /// `transposed`: the keys as `transposeKeys` lays them out; `output`: rows.heads × dim.
    public static func attend(queries: UnsafePointer<Float>, rows shape: AttentionShape, keys: UnsafePointer<Float>,
                              transposed: UnsafePointer<Float>, values: UnsafePointer<Float>, positions n: Int,
                              output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                              kernels: KernelSet = .selected) {
        precondition(shape.kvHeads == 1, "shared-key attention has one KV head")
        let count = shape.heads, dim = shape.headDimension, scale = shape.scale
        let c = kernels.cSet?.pointee
        guard let cScores = c?.attention_scores_transposed, dim % 16 == 0 else {
            Attention.attend(query: queries, keys: keys, values: values, position: n - 1, shape: shape, output: output,
                             scratch: scratch, kernels: kernels)
            return
        }
        let whole = n / 16 * 16
        if whole > 0 { cScores(queries, Int64(count), Int64(dim), transposed, Int64(n / 16), scale, scratch, Int64(n)) }
        for t in whole..<n {
            for i in 0..<count {
                scratch[i * n + t] = FloatDot.dotVector(queries + i * dim, keys + t * dim, dim) * scale
            }
        }
        Attention.weigh(scratch, 0, n - 1, values, shape, 0..<count, output, c?.attention_values, cSoftmax: c?.softmax)
    }
}
