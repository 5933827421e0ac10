// llama (SmolLM2) and qwen2 (Qwen2.5): pre-norm decoders with RMSNorm, RoPE, grouped-query
// attention and a SiLU-gated feed-forward. Qwen2 adds biases to Q, K and V, uses NeoX-style RoPE
// and (in the 0.5B model) a separate output matrix; llama ties the output to the embeddings
// when the file has no `output.weight`.
// Reference: llama.cpp src/models/llama.cpp and qwen2.cpp (structure only).
import ModelFiles

enum Llama {
    static func config(_ file: GGUFFile, architecture arch: String) throws -> DecoderConfig {
        let md = file.metadata
        let d = try md.archInt(arch, "embedding_length")
        let heads = try md.archInt(arch, "attention.head_count")
        let headDim = try md.archInt(arch, "attention.key_length", default: heads > 0 ? d / heads : 0)
        let layers = try md.archInt(arch, "block_count")
        let vocab = try vocabularySize(file, arch: arch)
        let base = try md.archFloat(arch, "rope.freq_base", default: 10000)
        return DecoderConfig(
            architecture: arch, layers: layers, embedding: d, heads: heads,
            kvHeads: try md.archInt(arch, "attention.head_count_kv", default: heads),
            headDim: headDim, feedForward: try md.archInt(arch, "feed_forward_length"),
            vocabulary: vocab, contextLength: try md.archInt(arch, "context_length"),
            normEpsilon: try md.archFloat(arch, "attention.layer_norm_rms_epsilon"),
            ropeStyle: arch == "qwen2" ? .neox : .normal, ropeBase: base, ropeBaseSliding: base,
            slidingWindow: nil, slidingLayers: Array(repeating: false, count: max(0, layers)),
            attentionScale: 1 / Float(headDim).squareRoot(), embeddingScale: nil, activation: .silu,
            qkvBias: arch == "qwen2", qkNorm: false, postNorms: false)
    }

    /// The vocabulary is the embedding matrix's row count (the metadata key is optional).
    static func vocabularySize(_ file: GGUFFile, arch: String) throws -> Int {
        guard let embd = file.tensor(named: "token_embd.weight") else { throw ModelError.missingTensor("token_embd.weight") }
        guard embd.shape.count == 2 else {
            throw ModelError.badTensorShape(name: embd.name, expected: [-1, -1], actual: embd.shape)
        }
        return embd.shape[1]
    }
}
