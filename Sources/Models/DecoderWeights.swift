// The weights of a decoder, bound to the mapped GGUF file: the matrices view the mmap, and those
// that are multiplied also own a copy repacked into tiles for the C kernel sets; the small norm
// and bias vectors are decoded once into Float arrays. Every tensor's shape is
// checked here against the configuration, so the forward pass can trust them.
import Kernels
import ModelFiles

/// One block's weights. Shapes: matrices are (rows × columns) = (output × input).
struct LayerWeights {
    var attentionNorm: [Float]       // (embedding)
    var q: QuantizedMatrix           // (heads·headDim × embedding)
    var k: QuantizedMatrix           // (kvHeads·headDim × embedding)
    var v: QuantizedMatrix           // (kvHeads·headDim × embedding)
    var qBias: [Float]?              // (heads·headDim), Qwen2
    var kBias: [Float]?              // (kvHeads·headDim)
    var vBias: [Float]?
    var qNorm: [Float]?              // (headDim), Gemma 3
    var kNorm: [Float]?
    var output: QuantizedMatrix      // (embedding × heads·headDim)
    var postAttentionNorm: [Float]?  // (embedding), Gemma 3
    var ffnNorm: [Float]             // (embedding)
    var gate: QuantizedMatrix        // (feedForward × embedding)
    var up: QuantizedMatrix          // (feedForward × embedding)
    var down: QuantizedMatrix        // (embedding × feedForward)
    var postFFNNorm: [Float]?        // (embedding), Gemma 3
}

/// All of a decoder's weights.
struct DecoderWeights {
    var embeddings: QuantizedMatrix  // (vocabulary × embedding)
    var outputNorm: [Float]          // (embedding)
    var output: QuantizedMatrix      // (vocabulary × embedding); the embeddings when tied
    var layers: [LayerWeights]

    init(file: GGUFFile, config c: DecoderConfig) throws {
        let binder = TensorBinder(file: file)
        embeddings = try binder.matrix("token_embd.weight", rows: c.vocabulary, columns: c.embedding)
        outputNorm = try binder.vector("output_norm.weight", count: c.embedding)
        // Matrices that are multiplied get tiles for the C kernel sets (Kernels/Tiles.swift); the
        // embeddings are only looked up row by row, unless they are tied to the output.
        // Tied: the output reads the tiles, the lookups page single rows of the file back in.
        output = file.tensor(named: "output.weight") == nil
            ? try binder.tiledMatrix("token_embd.weight", rows: c.vocabulary, columns: c.embedding)
            : try binder.tiledMatrix("output.weight", rows: c.vocabulary, columns: c.embedding)
        layers = try (0..<c.layers).map { i in
            let p = "blk.\(i)."
            func m(_ n: String, _ rows: Int, _ cols: Int) throws -> QuantizedMatrix {
                try binder.tiledMatrix(p + n + ".weight", rows: rows, columns: cols)
            }
            func v(_ n: String, _ count: Int) throws -> [Float] { try binder.vector(p + n, count: count) }
            return LayerWeights(
                attentionNorm: try v("attn_norm.weight", c.embedding),
                q: try m("attn_q", c.qDim, c.embedding),
                k: try m("attn_k", c.kvDim, c.embedding),
                v: try m("attn_v", c.kvDim, c.embedding),
                qBias: c.qkvBias ? try v("attn_q.bias", c.qDim) : nil,
                kBias: c.qkvBias ? try v("attn_k.bias", c.kvDim) : nil,
                vBias: c.qkvBias ? try v("attn_v.bias", c.kvDim) : nil,
                qNorm: c.qkNorm ? try v("attn_q_norm.weight", c.headDim) : nil,
                kNorm: c.qkNorm ? try v("attn_k_norm.weight", c.headDim) : nil,
                output: try m("attn_output", c.embedding, c.qDim),
                postAttentionNorm: c.postNorms ? try v("post_attention_norm.weight", c.embedding) : nil,
                ffnNorm: try v("ffn_norm.weight", c.embedding),
                gate: try m("ffn_gate", c.feedForward, c.embedding),
                up: try m("ffn_up", c.feedForward, c.embedding),
                down: try m("ffn_down", c.embedding, c.feedForward),
                postFFNNorm: c.postNorms ? try v("post_ffw_norm.weight", c.embedding) : nil)
        }
    }
}

/// Looks tensors up by name and checks their shapes and types.
private struct TensorBinder {
    let file: GGUFFile

    func info(_ name: String, shape: [Int]) throws -> GGUFTensorInfo {
        guard let t = file.tensor(named: name) else { throw ModelError.missingTensor(name) }
        guard t.shape == shape else { throw ModelError.badTensorShape(name: name, expected: shape, actual: t.shape) }
        return t
    }

    /// GGUF lists a matrix's dimensions innermost first: (columns, rows).
    func matrix(_ name: String, rows: Int, columns: Int) throws -> QuantizedMatrix {
        let t = try info(name, shape: [columns, rows])
        let format: WeightFormat
        do { format = try WeightFormat(ggmlType: t.type.rawValue) } catch {
            throw ModelError.unsupportedTensorType(name: name, type: t.type.name)
        }
        return try QuantizedMatrix(format: format, rows: rows, columns: columns, bytes: file.data(for: t))
    }

    /// A matrix that is only multiplied: tiled, and its file pages released (the tiles are what the
    /// kernels read), so the process does not hold the weights twice.
    func tiledMatrix(_ name: String, rows: Int, columns: Int) throws -> QuantizedMatrix {
        try matrix(name, rows: rows, columns: columns).tiled(releasing: { file.releasePages($0) })
    }

    func vector(_ name: String, count: Int) throws -> [Float] {
        let t = try info(name, shape: [count])
        let format: WeightFormat
        do { format = try WeightFormat(ggmlType: t.type.rawValue) } catch {
            throw ModelError.unsupportedTensorType(name: name, type: t.type.name)
        }
        let m = try QuantizedMatrix(format: format, rows: 1, columns: count, bytes: file.data(for: t))
        var out = [Float](repeating: 0, count: count)
        try out.withUnsafeMutableBufferPointer { try m.dequantizeRow(0, into: $0) }
        return out
    }
}
