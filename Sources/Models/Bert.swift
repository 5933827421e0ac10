// BERT encoders (BertModel checkpoints such as all-MiniLM-L6-v2) from a safetensors file: word,
// position and token-type embeddings, then post-LayerNorm encoder layers with bidirectional
// attention and an exact-erf GELU feed-forward. Every operation is a Kernels function with a fixed
// order, as in the decoders.
//
// Batches: the sequences of a call are laid out one after another (no padding). Matrix products
// and norms work row by row, and each row attends to its own sequence's keys only, which is what
// a padding mask achieves, without the padded rows. So a sequence's hidden states are the same
// bits alone or in any batch, with any thread count.
import Kernels
import ModelFiles

/// A BERT encoder bound to its mapped safetensors file.
public final class BertModel: @unchecked Sendable {
    public let config: BertConfig
    /// Keeps the mapping alive as long as the weights point into it.
    public let file: SafetensorsFile
    let weights: BertWeights
    let attention: AttentionShape

    public init(file: SafetensorsFile, config: BertConfig) throws {
        self.file = file
        self.config = config
        weights = try BertWeights(file: file, config: config)
        guard config.hiddenSize % config.heads == 0 else {
            throw ModelError.badHyperparameter("hidden size \(config.hiddenSize) is not a multiple of \(config.heads) heads")
        }
        let headDim = config.hiddenSize / config.heads
        attention = try AttentionShape(heads: config.heads, kvHeads: config.heads, headDimension: headDim,
                                       window: nil, scale: 1 / Float(headDim).squareRoot())
    }

    /// The final hidden states of each sequence: tokens.count × hiddenSize floats, row-major.
    /// Every sequence needs 1...maxPositions tokens, each below the vocabulary size.
    public func encode(_ sequences: [[Int32]], pool: ThreadPool?) throws -> [[Float]] {
        let c = config
        var starts: [Int] = []
        var rows: [(sequence: Int, position: Int, token: Int32)] = []
        for (s, tokens) in sequences.enumerated() {
            guard !tokens.isEmpty else { throw ModelError.badHyperparameter("an empty sequence") }
            guard tokens.count <= c.maxPositions else { throw ModelError.contextOverflow(needed: tokens.count, limit: c.maxPositions) }
            starts.append(rows.count)
            for (p, t) in tokens.enumerated() {
                guard t >= 0, Int(t) < c.vocabSize else { throw ModelError.tokenOutOfRange(token: t, vocabulary: c.vocabSize) }
                rows.append((s, p, t))
            }
        }
        guard !rows.isEmpty else { return [] }
        let pass = BertPass(model: self, rows: rows, starts: starts, lengths: sequences.map(\.count), pool: pool)
        let hidden = try pass.run()
        return withExtendedLifetime(hidden) {
            sequences.indices.map { s in
                Array(UnsafeBufferPointer(start: hidden.p + starts[s] * c.hiddenSize, count: sequences[s].count * c.hiddenSize))
            }
        }
    }
}

/// The tensors of a BertModel checkpoint (names with or without a `bert.` prefix).
struct BertWeights {
    struct Layer {
        let query, key, value, attentionOutput, intermediate, output: QuantizedMatrix
        let queryBias, keyBias, valueBias, attentionOutputBias, intermediateBias, outputBias: [Float]
        let attentionNorm, attentionNormBias, outputNorm, outputNormBias: [Float]
    }

    let words, positions, tokenTypes: QuantizedMatrix
    let embeddingNorm, embeddingNormBias: [Float]
    let layers: [Layer]

    init(file: SafetensorsFile, config c: BertConfig) throws {
        let prefix = file.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> QuantizedMatrix {
            guard let t = file.tensors[prefix + name] else { throw ModelError.missingTensor(prefix + name) }
            guard t.shape == [rows, columns] else {
                throw ModelError.badTensorShape(name: prefix + name, expected: [rows, columns], actual: t.shape)
            }
            let format: WeightFormat
            switch t.dtype {
            case .f32: format = .f32
            case .f16: format = .f16
            case .bf16: format = .bf16
            default: throw ModelError.unsupportedTensorType(name: prefix + name, type: t.dtype.rawValue)
            }
            return try QuantizedMatrix(format: format, rows: rows, columns: columns, bytes: file.data(of: t))
        }
        func vector(_ name: String, _ count: Int) throws -> [Float] {
            guard let t = file.tensors[prefix + name] else { throw ModelError.missingTensor(prefix + name) }
            guard t.shape == [count] else { throw ModelError.badTensorShape(name: prefix + name, expected: [count], actual: t.shape) }
            return try file.floats(prefix + name)
        }
        let h = c.hiddenSize, i = c.intermediateSize
        words = try matrix("embeddings.word_embeddings.weight", c.vocabSize, h)
        positions = try matrix("embeddings.position_embeddings.weight", c.maxPositions, h)
        tokenTypes = try matrix("embeddings.token_type_embeddings.weight", c.typeVocabSize, h)
        embeddingNorm = try vector("embeddings.LayerNorm.weight", h)
        embeddingNormBias = try vector("embeddings.LayerNorm.bias", h)
        layers = try (0..<c.layers).map { l in
            let p = "encoder.layer.\(l)."
            return Layer(
                query: try matrix(p + "attention.self.query.weight", h, h),
                key: try matrix(p + "attention.self.key.weight", h, h),
                value: try matrix(p + "attention.self.value.weight", h, h),
                attentionOutput: try matrix(p + "attention.output.dense.weight", h, h),
                intermediate: try matrix(p + "intermediate.dense.weight", i, h),
                output: try matrix(p + "output.dense.weight", h, i),
                queryBias: try vector(p + "attention.self.query.bias", h),
                keyBias: try vector(p + "attention.self.key.bias", h),
                valueBias: try vector(p + "attention.self.value.bias", h),
                attentionOutputBias: try vector(p + "attention.output.dense.bias", h),
                intermediateBias: try vector(p + "intermediate.dense.bias", i),
                outputBias: try vector(p + "output.dense.bias", h),
                attentionNorm: try vector(p + "attention.output.LayerNorm.weight", h),
                attentionNormBias: try vector(p + "attention.output.LayerNorm.bias", h),
                outputNorm: try vector(p + "output.LayerNorm.weight", h),
                outputNormBias: try vector(p + "output.LayerNorm.bias", h))
        }
    }
}

/// One encoder pass over a batch of sequences laid end to end.
private struct BertPass {
    let model: BertModel
    let rows: [(sequence: Int, position: Int, token: Int32)]
    let starts: [Int]
    let lengths: [Int]
    let pool: ThreadPool?
    let activations = QuantizedActivations()

    var c: BertConfig { model.config }

    func run() throws -> FloatBuffer {
        let h = c.hiddenSize, t = rows.count, w = model.weights
        let x = FloatBuffer(t * h)
        var embedding = [Float](repeating: 0, count: h)  // a token-type or position row
        for (r, row) in rows.enumerated() {
            let out = UnsafeMutableBufferPointer(start: x.p + r * h, count: h)
            // HF's order: (word + token type) + position, then LayerNorm.
            try w.words.dequantizeRow(Int(row.token), into: out)
            try embedding.withUnsafeMutableBufferPointer { b in
                try w.tokenTypes.dequantizeRow(0, into: b)
                Elementwise.add(out.baseAddress!, b.baseAddress!, count: h)
                try w.positions.dequantizeRow(row.position, into: b)
                Elementwise.add(out.baseAddress!, b.baseAddress!, count: h)
            }
            layerNorm(x.p + r * h, w.embeddingNorm, w.embeddingNormBias)
        }
        let s = BertScratch(rows: t, hidden: h, intermediate: c.intermediateSize)
        for layer in w.layers { try block(layer, x, s) }
        return x
    }

    private func layerNorm(_ x: UnsafeMutablePointer<Float>, _ weight: [Float], _ bias: [Float]) {
        weight.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                Norms.layerNorm(x, weight: wp.baseAddress!, bias: bp.baseAddress!, count: c.hiddenSize,
                                epsilon: c.layerNormEps, output: x)
            }
        }
    }

    /// out = W·input + b for every row.
    private func project(_ w: QuantizedMatrix, _ bias: [Float], _ input: FloatBuffer, into out: FloatBuffer) throws {
        try activations.prepare(input.readOnly, vectors: rows.count, columns: w.columns, for: w.format)
        try Matmul.multiply(w, activations, output: out.buffer, pool: pool)
        for r in 0..<rows.count { Ops.add(bias, to: out.p + r * w.rows, count: w.rows) }
    }

    private func block(_ w: BertWeights.Layer, _ x: FloatBuffer, _ s: BertScratch) throws {
        let h = c.hiddenSize, t = rows.count
        try project(w.query, w.queryBias, x, into: s.q)
        try project(w.key, w.keyBias, x, into: s.k)
        try project(w.value, w.valueBias, x, into: s.v)
        attend(s)
        try project(w.attentionOutput, w.attentionOutputBias, s.att, into: s.o)
        // Post-LayerNorm: x = LN(sublayer(x) + x).
        for r in 0..<t {
            Elementwise.add(x.p + r * h, s.o.p + r * h, count: h)
            layerNorm(x.p + r * h, w.attentionNorm, w.attentionNormBias)
        }
        try project(w.intermediate, w.intermediateBias, x, into: s.inter)
        Elementwise.geluErf(s.inter.p, count: t * c.intermediateSize)
        try project(w.output, w.outputBias, s.inter, into: s.o)
        for r in 0..<t {
            Elementwise.add(x.p + r * h, s.o.p + r * h, count: h)
            layerNorm(x.p + r * h, w.outputNorm, w.outputNormBias)
        }
    }

    /// Each row attends to every position of its own sequence (bidirectional); one thread
    /// computes a whole row.
    private func attend(_ s: BertScratch) {
        let h = c.hiddenSize, shape = model.attention
        let longest = lengths.max() ?? 1
        let body: (Range<Int>) -> Void = { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Attention.scratchCount(position: longest, heads: shape.heads))
            defer { scratch.deallocate() }
            for r in range {
                let row = rows[r], start = starts[row.sequence]
                Attention.attend(query: s.q.p + r * h, keys: s.k.p + start * h, values: s.v.p + start * h,
                                 position: lengths[row.sequence] - 1, shape: shape, output: s.att.p + r * h, scratch: scratch)
            }
        }
        if let pool, pool.threads > 1, rows.count > 1 { pool.parallelFor(rows: rows.count, body: body) } else { body(0..<rows.count) }
    }
}

/// Per-pass buffers.
private final class BertScratch {
    let q, k, v, att, o, inter: FloatBuffer
    init(rows t: Int, hidden h: Int, intermediate i: Int) {
        q = FloatBuffer(t * h)
        k = FloatBuffer(t * h)
        v = FloatBuffer(t * h)
        att = FloatBuffer(t * h)
        o = FloatBuffer(t * h)
        inter = FloatBuffer(t * i)
    }
}
