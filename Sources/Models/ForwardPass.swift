// The body of one forward pass (DecoderModel.forward): embeddings, the blocks, and the logits of
// the rows asked for. Buffers are (rows × width) Float32, row-major; row t is token t of the
// flattened batch.
import Kernels

/// A Float buffer freed with its owner.
final class FloatBuffer {
    let count: Int
    let p: UnsafeMutablePointer<Float>
    init(_ count: Int) {
        self.count = count
        p = .allocate(capacity: max(1, count))
        p.initialize(repeating: 0, count: max(1, count))
    }
    deinit { p.deallocate() }
    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: p, count: count) }
    var readOnly: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: p, count: count) }
    /// A copy. (Not `Array(buffer.readOnly)`: the buffer may be freed before the copy is made.)
    var array: [Float] { withExtendedLifetime(self) { Array(readOnly) } }
}

struct ForwardPass {
    let model: DecoderModel
    let items: [ForwardItem]
    let rows: [RowInfo]
    let pool: ThreadPool?
    let activations = QuantizedActivations()

    var config: DecoderConfig { model.config }

    /// Runs every block; returns the hidden states (rows × embedding) before the output norm.
    func run() throws -> FloatBuffer {
        let c = config, t = rows.count
        let x = FloatBuffer(t * c.embedding)
        for (r, row) in rows.enumerated() {
            try model.weights.embeddings.dequantizeRow(Int(row.token),
                into: UnsafeMutableBufferPointer(start: x.p + r * c.embedding, count: c.embedding))
            if let s = c.embeddingScale { Elementwise.scale(x.p + r * c.embedding, by: s, count: c.embedding) }
        }
        let scratch = BlockScratch(rows: t, config: c)
        let angles = model.rope.angles(positions: rows.map(\.position))
        let shapes = try AttentionShapes(config: c)
        for l in 0..<c.layers { try block(l, x, scratch, angles, shapes) }
        return x
    }

    /// y = W·x for every row: prepares the activations for W's block size unless already done.
    private func project(_ w: QuantizedMatrix, _ input: FloatBuffer, into out: FloatBuffer, prepared: inout Int?) throws {
        if prepared != w.format.blockSize {
            try activations.prepare(input.readOnly, vectors: rows.count, columns: w.columns, for: w.format)
            prepared = w.format.blockSize
        }
        try Matmul.multiply(w, activations, output: out.buffer, pool: pool)
    }

    /// Products of one input by several matrices: those of the first one's format in one pass of
    /// the pool (Matmul.multiply of several), the others one by one.
    private func project(_ products: [(QuantizedMatrix, FloatBuffer)], _ input: FloatBuffer, prepared: inout Int?) throws {
        let format = products[0].0.format
        let together = products.filter { $0.0.format == format }
        if prepared != format.blockSize {
            try activations.prepare(input.readOnly, vectors: rows.count, columns: products[0].0.columns, for: format)
            prepared = format.blockSize
        }
        try Matmul.multiply(together.map { ($0.0, $0.1.buffer) }, activations, pool: pool)
        for (w, out) in products where w.format != format { try project(w, input, into: out, prepared: &prepared) }
    }

    private func block(_ l: Int, _ x: FloatBuffer, _ s: BlockScratch,
                       _ angles: (global: FloatBuffer, sliding: FloatBuffer), _ shapes: AttentionShapes) throws {
        let c = config, w = model.weights.layers[l], t = rows.count
        // Attention.
        for r in 0..<t { Ops.rmsNorm(x.p + r * c.embedding, w.attentionNorm, c.normEpsilon, out: s.h.p + r * c.embedding, count: c.embedding) }
        var prepared: Int? = nil
        try project([(w.q, s.q), (w.k, s.k), (w.v, s.v)], s.h, prepared: &prepared)
        if let b = w.qBias { for r in 0..<t { Ops.add(b, to: s.q.p + r * c.qDim, count: c.qDim) } }
        if let b = w.kBias { for r in 0..<t { Ops.add(b, to: s.k.p + r * c.kvDim, count: c.kvDim) } }
        if let b = w.vBias { for r in 0..<t { Ops.add(b, to: s.v.p + r * c.kvDim, count: c.kvDim) } }
        let sliding = c.slidingLayers[l]
        let rope = sliding ? model.rope.sliding : model.rope.global
        let table = sliding ? angles.sliding : angles.global
        for (r, row) in rows.enumerated() {
            let q = s.q.p + r * c.qDim, k = s.k.p + r * c.kvDim
            if let qn = w.qNorm { for h in 0..<c.heads { Ops.rmsNorm(q + h * c.headDim, qn, c.normEpsilon, out: q + h * c.headDim, count: c.headDim) } }
            if let kn = w.kNorm { for h in 0..<c.kvHeads { Ops.rmsNorm(k + h * c.headDim, kn, c.normEpsilon, out: k + h * c.headDim, count: c.headDim) } }
            rope.apply(q, heads: c.heads, headDimension: c.headDim, angles: table.p + r * c.headDim)
            rope.apply(k, heads: c.kvHeads, headDimension: c.headDim, angles: table.p + r * c.headDim)
            // Keys and values of this row go into its sequence's cache before any attention.
            let seq = items[row.item].sequence
            (seq.keys[l] + row.position * c.kvDim).update(from: k, count: c.kvDim)
            (seq.values[l] + row.position * c.kvDim).update(from: s.v.p + r * c.kvDim, count: c.kvDim)
        }
        attend(layer: l, s, shape: sliding ? shapes.sliding : shapes.global)
        prepared = nil
        try project(w.output, s.att, into: s.o, prepared: &prepared)
        addResidual(s.o, normedBy: w.postAttentionNorm, into: x)
        // Feed-forward.
        for r in 0..<t { Ops.rmsNorm(x.p + r * c.embedding, w.ffnNorm, c.normEpsilon, out: s.h.p + r * c.embedding, count: c.embedding) }
        prepared = nil
        try project([(w.gate, s.gate), (w.up, s.up)], s.h, prepared: &prepared)
        Ops.gatedActivation(c.activation, gate: s.gate.p, up: s.up.p, count: t * c.feedForward)
        prepared = nil
        try project(w.down, s.gate, into: s.o, prepared: &prepared)
        addResidual(s.o, normedBy: w.postFFNNorm, into: x)
    }

    /// x += norm(o) row by row (Gemma normalises a sub-layer's output before the residual add).
    private func addResidual(_ o: FloatBuffer, normedBy norm: [Float]?, into x: FloatBuffer) {
        let c = config
        for r in 0..<rows.count {
            let row = o.p + r * c.embedding
            if let norm { Ops.rmsNorm(row, norm, c.normEpsilon, out: row, count: c.embedding) }
            Ops.add(UnsafePointer(row), to: x.p + r * c.embedding, count: c.embedding)
        }
    }

    /// Attention of every row. Each (row, head) is computed whole by one thread, so the split
    /// never changes a bit: whole rows per thread when there are rows enough to share, else
    /// (decode) the heads of the few rows are split over the threads.
    private func attend(layer l: Int, _ s: BlockScratch, shape: AttentionShape) {
        let c = config, heads = c.heads
        let longest = (rows.map(\.position).max() ?? 0) + 1
        let threads = pool?.threads ?? 1
        let byRows = rows.count >= 2 * threads
        let work = byRows ? rows.count : rows.count * heads
        let body: (Range<Int>) -> Void = { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Attention.scratchCount(position: longest, heads: heads))
            defer { scratch.deallocate() }
            var i = range.lowerBound
            while i < range.upperBound {
                // The row of item i and the heads of that row within the range.
                let r = byRows ? i : i / heads
                let first = byRows ? 0 : i % heads
                let last = byRows ? heads : min(heads, first + range.upperBound - i)
                let row = rows[r], seq = items[row.item].sequence
                Attention.attend(query: s.q.p + r * c.qDim, keys: seq.keys[l], values: seq.values[l], position: row.position,
                                 shape: shape, heads: first..<last, output: s.att.p + r * c.qDim, scratch: scratch)
                i += byRows ? 1 : last - first
            }
        }
        if let pool, threads > 1, work > 1 { pool.parallelFor(rows: work, body: body) } else { body(0..<work) }
    }

    /// The rows the items asked for, per item: logits, or the final hidden states (the same
    /// normed rows the logits are computed from).
    func logits(hidden x: FloatBuffer) throws -> [[Float]] {
        let c = config
        let wanted = OutputRows(items.map { ($0.tokens.count, $0.logits) })
        return try wanted.results(vocabulary: c.vocabulary, hidden: { normed(x, rows: $0).array }) { rows in
            let normedRows = normed(x, rows: rows)
            let out = FloatBuffer(rows.count * c.vocabulary)
            try activations.prepare(normedRows.readOnly, vectors: rows.count, columns: c.embedding, for: model.weights.output.format)
            try Matmul.multiply(model.weights.output, activations, output: out.buffer, pool: pool)
            return out
        }
    }

    /// The output norm of the given rows of x.
    private func normed(_ x: FloatBuffer, rows wanted: [Int]) -> FloatBuffer {
        let c = config
        let out = FloatBuffer(wanted.count * c.embedding)
        for (i, row) in wanted.enumerated() {
            Ops.rmsNorm(x.p + row * c.embedding, model.weights.outputNorm, c.normEpsilon, out: out.p + i * c.embedding, count: c.embedding)
        }
        return out
    }
}

/// The attention geometry of global and sliding-window layers.
struct AttentionShapes {
    let global: AttentionShape
    let sliding: AttentionShape
    init(config c: DecoderConfig) throws {
        global = try AttentionShape(heads: c.heads, kvHeads: c.kvHeads, headDimension: c.headDim, window: nil, scale: c.attentionScale)
        sliding = try AttentionShape(heads: c.heads, kvHeads: c.kvHeads, headDimension: c.headDim, window: c.slidingWindow, scale: c.attentionScale)
    }
}

/// Per-pass buffers, sized for the batch.
final class BlockScratch {
    let h, q, k, v, att, o, gate, up: FloatBuffer
    init(rows t: Int, config c: DecoderConfig) {
        h = FloatBuffer(t * c.embedding)
        q = FloatBuffer(t * c.qDim)
        k = FloatBuffer(t * c.kvDim)
        v = FloatBuffer(t * c.kvDim)
        att = FloatBuffer(t * c.qDim)
        o = FloatBuffer(t * c.embedding)
        gate = FloatBuffer(t * c.feedForward)
        up = FloatBuffer(t * c.feedForward)
    }
}
