// The hyperparameters of a decoder-only transformer and the few switches in which the supported
// architectures differ. Each architecture file (Llama.swift, Gemma3.swift) fills one of these
// from GGUF metadata; DecoderModel runs any of them.
import Kernels
import ModelFiles

/// The gated feed-forward activation.
public enum FeedForwardActivation: Sendable, Equatable {
    case silu
    /// GELU, tanh approximation (Gemma).
    case geluTanh
}

/// Everything the shared decoder backbone needs to know about one model.
public struct DecoderConfig: Sendable, Equatable {
    public var architecture: String
    public var layers: Int
    public var embedding: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var feedForward: Int
    public var vocabulary: Int
    public var contextLength: Int
    public var normEpsilon: Float
    /// Normal (llama: the GGUF converter permutes Q and K to suit it) or NeoX (qwen2, gemma3).
    public var ropeStyle: RopeStyle
    public var ropeBase: Float
    /// RoPE base of sliding-window layers (Gemma 3 uses 10000 there), else `ropeBase`.
    public var ropeBaseSliding: Float
    /// Keys a sliding-window layer sees (the query's own position included); nil: none.
    public var slidingWindow: Int?
    /// Which layers use the sliding window.
    public var slidingLayers: [Bool]
    /// Multiplies attention scores.
    public var attentionScale: Float
    /// Multiplies token embeddings (Gemma: sqrt(embedding)); nil: none.
    public var embeddingScale: Float?
    public var activation: FeedForwardActivation
    /// Q, K, V projections have biases (Qwen2).
    public var qkvBias: Bool
    /// Per-head RMSNorm of Q and K before RoPE (Gemma 3).
    public var qkNorm: Bool
    /// RMSNorm of the attention and feed-forward outputs before the residual add (Gemma 3).
    public var postNorms: Bool

    public var qDim: Int { heads * headDim }
    public var kvDim: Int { kvHeads * headDim }

    /// Checks the relations the forward pass relies on.
    func validate() throws {
        func need(_ ok: Bool, _ m: String) throws { if !ok { throw ModelError.badHyperparameter(m) } }
        try need(layers > 0 && layers <= 1024, "block_count \(layers)")
        try need(embedding > 0 && embedding <= 1 << 16, "embedding_length \(embedding)")
        try need(heads > 0 && kvHeads > 0 && heads % kvHeads == 0, "head_count \(heads) / head_count_kv \(kvHeads)")
        try need(headDim > 0 && headDim % 2 == 0 && headDim <= 1024, "head dimension \(headDim)")
        try need(feedForward > 0 && feedForward <= 1 << 18, "feed_forward_length \(feedForward)")
        try need(vocabulary > 0, "vocabulary \(vocabulary)")
        try need(contextLength > 0, "context_length \(contextLength)")
        try need(normEpsilon.isFinite && normEpsilon >= 0, "norm epsilon \(normEpsilon)")
        try need(ropeBase.isFinite && ropeBase > 1 && ropeBaseSliding.isFinite && ropeBaseSliding > 1, "rope base")
        try need(slidingLayers.count == layers, "sliding layer table")
        if let w = slidingWindow { try need(w > 0, "sliding window \(w)") }
    }
}

extension DecoderConfig {
    /// The hyperparameters every supported architecture stores under the same keys, with the
    /// switches at the plain llama settings; each architecture file then sets its own.
    static func standard(_ file: GGUFFile, architecture arch: String) throws -> DecoderConfig {
        let md = file.metadata
        let d = try md.archInt(arch, "embedding_length")
        let heads = try md.archInt(arch, "attention.head_count")
        let headDim = try md.archInt(arch, "attention.key_length", default: heads > 0 ? d / heads : 0)
        let layers = try md.archInt(arch, "block_count")
        let base = try md.archFloat(arch, "rope.freq_base", default: 10000)
        return DecoderConfig(
            architecture: arch, layers: layers, embedding: d, heads: heads,
            kvHeads: try md.archInt(arch, "attention.head_count_kv", default: heads),
            headDim: headDim, feedForward: try md.archInt(arch, "feed_forward_length"),
            vocabulary: try vocabularySize(file), contextLength: try md.archInt(arch, "context_length"),
            normEpsilon: try md.archFloat(arch, "attention.layer_norm_rms_epsilon"),
            ropeStyle: .normal, ropeBase: base, ropeBaseSliding: base,
            slidingWindow: nil, slidingLayers: Array(repeating: false, count: max(0, layers)),
            attentionScale: headDim > 0 ? 1 / Float(headDim).squareRoot() : 1, embeddingScale: nil,
            activation: .silu, qkvBias: false, qkNorm: false, postNorms: false)
    }

    /// The vocabulary is the embedding matrix's row count (the metadata key is optional).
    static func vocabularySize(_ file: GGUFFile) throws -> Int {
        guard let embd = file.tensor(named: "token_embd.weight") else { throw ModelError.missingTensor("token_embd.weight") }
        guard embd.shape.count == 2 else {
            throw ModelError.badTensorShape(name: embd.name, expected: [-1, -1], actual: embd.shape)
        }
        return embd.shape[1]
    }
}

extension GGUFMetadata {
    /// `<arch>.<key>` as an Int, or `fallback` when absent.
    func archInt(_ arch: String, _ key: String, default fallback: Int? = nil) throws -> Int {
        if let fallback, self["\(arch).\(key)"] == nil { return fallback }
        return try int("\(arch).\(key)")
    }

    func archFloat(_ arch: String, _ key: String, default fallback: Float? = nil) throws -> Float {
        if let fallback, self["\(arch).\(key)"] == nil { return fallback }
        return Float(try double("\(arch).\(key)"))
    }
}
