// One step of Whisper's decoder over a batch of target sequences (CTranslate2
// src/layers/transformer.cc, TransformerDecoderLayer with pre-norm): token embedding + learned
// position, then per layer
//   x += Wo·selfAttn(LN(x))        causal, over the sequence's own KV cache
//   x += Wo'·crossAttn(LN(x))      over the sequence's source memory (CrossAttentionMemory)
//   x += W2·GELU(W1·LN(x))
// then the final LayerNorm and the logits by the embedding matrix (tied). Rows are the tokens of
// every item laid end to end (a prompt of several tokens, or one per decode step); each row's
// keys and values go into its sequence's cache before any attention, and every operation is per
// row, so a row's logits are the same bits alone or in any batch, for any thread count.
import Kernels

struct WhisperDecoderPass {
    struct Row {
        let item: Int
        let position: Int
        let token: Int32
    }

    let weights: WhisperWeights
    let config: WhisperConfig
    let ops: WhisperOps
    let items: [TargetStep]
    let rows: [Row]

    /// Runs every layer; returns the hidden states (rows × width) before the final norm.
    func run() throws -> FloatBuffer {
        let c = config, w = c.width, t = rows.count
        let x = FloatBuffer(t * w)
        for (r, row) in rows.enumerated() {
            let out = x.p + r * w
            try weights.embeddings.dequantizeRow(Int(row.token), into: UnsafeMutableBufferPointer(start: out, count: w))
            Elementwise.add(out, weights.decoderPositions.p + row.position * w, count: w)
        }
        let s = DecoderScratch(rows: t, width: w, feedForward: c.feedForward)
        let shape = try AttentionShape(heads: c.decoderHeads, kvHeads: c.decoderHeads, headDimension: c.decoderHeadDimension,
                                       scale: 1 / Float(c.decoderHeadDimension).squareRoot())
        for (l, layer) in weights.decoderLayers.enumerated() { try block(l, layer, x, s, shape) }
        return x
    }

    private func block(_ l: Int, _ layer: WhisperWeights.DecoderLayer, _ x: FloatBuffer, _ s: DecoderScratch,
                       _ shape: AttentionShape) throws {
        let w = config.width, t = rows.count
        // Self-attention: this row's key and value into its cache, then causal attention.
        ops.layerNorm(layer.selfNorm, x.p, rows: t, width: w, into: s.h.p)
        try ops.linear(layer.query, s.h.p, rows: t, into: s.q.p)
        try ops.linear(layer.key, s.h.p, rows: t, into: s.k.p)
        try ops.linear(layer.value, s.h.p, rows: t, into: s.v.p)
        for (r, row) in rows.enumerated() {
            let cache = items[row.item].sequence.cache
            (cache.keys[l] + row.position * w).update(from: s.k.p + r * w, count: w)
            (cache.values[l] + row.position * w).update(from: s.v.p + r * w, count: w)
        }
        let longest = (rows.map(\.position).max() ?? 0) + 1
        ops.attend(rows: t, queries: s.q.p, shape: shape, longest: longest, output: s.att.p) { r in
            let cache = items[rows[r].item].sequence.cache
            return (UnsafePointer(cache.keys[l]), UnsafePointer(cache.values[l]), rows[r].position)
        }
        try ops.linear(layer.selfOutput, s.att.p, rows: t, into: s.o.p)
        ops.add(x.p, s.o.p, rows: t, width: w)

        // Cross-attention over the source's memory.
        ops.layerNorm(layer.crossNorm, x.p, rows: t, width: w, into: s.h.p)
        try ops.linear(layer.crossQuery, s.h.p, rows: t, into: s.q.p)
        let sources = items.map { $0.sequence.memory.positions }
        try ops.attendMemory(rows: t, queries: s.q.p, shape: shape, longest: sources.max() ?? 1, output: s.att.p) { r in
            let memory = items[rows[r].item].sequence.memory
            return (memory.packed[l], memory.positions)
        }
        try ops.linear(layer.crossOutput, s.att.p, rows: t, into: s.o.p)
        ops.add(x.p, s.o.p, rows: t, width: w)

        // Feed-forward.
        try ops.feedForward(layer.ffnNorm, up: layer.up, down: layer.down, x.p, rows: t, width: w, hiddenWidth: config.feedForward,
                            normed: s.h.p, hidden: s.up.p, out: s.o.p)
    }

    /// The rows the items asked for, per item: logits, or the final hidden states (the normed
    /// rows the logits are computed from).
    func outputs(hidden x: FloatBuffer) throws -> [[Float]] {
        let wanted = OutputRows(items.map { ($0.tokens.count, $0.logits) })
        return try wanted.results(vocabulary: config.vocabulary, hidden: { normed(x, rows: $0).array }) { rows in
            let h = normed(x, rows: rows)
            let out = FloatBuffer(rows.count * config.vocabulary)
            try ops.linear(WhisperLinear(weight: weights.embeddings, bias: []), h.p, rows: rows.count, into: out.p)
            return out
        }
    }

    /// The final norm of the given rows of x.
    private func normed(_ x: FloatBuffer, rows wanted: [Int]) -> FloatBuffer {
        let w = config.width
        let out = FloatBuffer(wanted.count * w)
        for (i, row) in wanted.enumerated() {
            ops.layerNorm(weights.decoderNorm, x.p + row * w, rows: 1, width: w, into: out.p + i * w)
        }
        return out
    }
}

/// Per-pass buffers of the decoder layers.
private final class DecoderScratch {
    let h, q, k, v, att, o, up: FloatBuffer
    init(rows: Int, width: Int, feedForward: Int) {
        h = FloatBuffer(rows * width)
        q = FloatBuffer(rows * width)
        k = FloatBuffer(rows * width)
        v = FloatBuffer(rows * width)
        att = FloatBuffer(rows * width)
        o = FloatBuffer(rows * width)
        up = FloatBuffer(rows * feedForward)
    }
}
