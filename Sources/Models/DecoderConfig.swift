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

    // Cannot overflow once validate() has passed (HyperparameterBounds.projectionWidth).
    public var qDim: Int { heads * headDim }
    public var kvDim: Int { kvHeads * headDim }

    /// Checks every bound again (a configuration can also be built in code) and the relations the
    /// forward pass relies on, with the products it allocates computed with overflow checks.
    /// Reasons name the metadata keys the values came from.
    func validate() throws {
        let b = HyperparameterBounds.self
        func key(_ k: String) -> String { "\(architecture).\(k)" }
        func need(_ ok: Bool, _ why: @autoclosure () -> String) throws {
            if !ok { throw ModelError.badHyperparameter(why()) }
        }
        try need(b.layers.contains(layers), "\(key("block_count")) \(layers) is outside \(b.layers)")
        try need(b.embedding.contains(embedding), "\(key("embedding_length")) \(embedding) is outside \(b.embedding)")
        try need(b.heads.contains(heads), "\(key("attention.head_count")) \(heads) is outside \(b.heads)")
        try need(b.heads.contains(kvHeads) && heads % kvHeads == 0,
                 "\(key("attention.head_count")) \(heads) is not a multiple of \(key("attention.head_count_kv")) \(kvHeads)")
        try need(b.headDim.contains(headDim) && headDim % 2 == 0,
                 "head dimension \(headDim) (\(key("attention.key_length")), else \(key("embedding_length")) / \(key("attention.head_count"))) must be even and in \(b.headDim)")
        for (name, count) in [("attention.head_count", heads), ("attention.head_count_kv", kvHeads)] {
            let (width, overflow) = count.multipliedReportingOverflow(by: headDim)
            try need(!overflow && b.projectionWidth.contains(width),
                     "\(key(name)) \(count) × head dimension \(headDim) is outside \(b.projectionWidth)")
        }
        try need(b.feedForward.contains(feedForward), "\(key("feed_forward_length")) \(feedForward) is outside \(b.feedForward)")
        try need(b.vocabulary.contains(vocabulary), "tensor 'token_embd.weight' has \(vocabulary) rows, outside \(b.vocabulary)")
        try need(!vocabulary.multipliedReportingOverflow(by: embedding).overflow, "tensor 'token_embd.weight' is too large")
        try need(b.contextLength.contains(contextLength), "\(key("context_length")) \(contextLength) is outside \(b.contextLength)")
        try need(normEpsilon.isFinite && b.normEpsilon.contains(Double(normEpsilon)),
                 "\(key("attention.layer_norm_rms_epsilon")) \(normEpsilon) is outside \(b.normEpsilon)")
        try need(ropeBase.isFinite && ropeBase > 1 && ropeBaseSliding.isFinite && ropeBaseSliding > 1,
                 "\(key("rope.freq_base")) \(ropeBase) (sliding layers \(ropeBaseSliding)) must be finite and above 1")
        try need(slidingLayers.count == layers, "the sliding layer table has \(slidingLayers.count) entries for \(layers) layers")
        if let w = slidingWindow {
            try need(b.slidingWindow.contains(w), "\(key("attention.sliding_window")) \(w) is outside \(b.slidingWindow)")
        }
    }
}

extension DecoderConfig {
    /// The hyperparameters every supported architecture stores under the same keys, with the
    /// switches at the plain llama settings; each architecture file then sets its own. Every
    /// count is read within its bounds (HyperparameterBounds) before anything is built from it.
    static func standard(_ file: GGUFFile, architecture arch: String) throws -> DecoderConfig {
        let md = file.metadata, b = HyperparameterBounds.self
        func key(_ k: String) -> String { "\(arch).\(k)" }
        let layers = try md.boundedInt(key("block_count"), in: b.layers)
        let d = try md.boundedInt(key("embedding_length"), in: b.embedding)
        let heads = try md.boundedInt(key("attention.head_count"), in: b.heads)
        let kvHeads = try md.boundedInt(key("attention.head_count_kv"), in: b.heads, default: heads)
        // llama derives the head width from the embedding; Gemma states it. RoPE rotates pairs.
        let headDim = try md.boundedInt(key("attention.key_length"), in: b.headDim, default: d / heads)
        let headDimSource = md[key("attention.key_length")] != nil
            ? key("attention.key_length") : "\(key("embedding_length")) / \(key("attention.head_count"))"
        guard b.headDim.contains(headDim), headDim % 2 == 0 else {
            throw ModelError.badHyperparameter("head dimension \(headDim) (\(headDimSource)) must be even and in \(b.headDim)")
        }
        // What the forward pass does not implement is refused, not run differently.
        try requireAbsent(or: headDim, md, key("attention.value_length"),
                          because: "the head dimension (\(headDimSource)): values as wide as keys")
        try requireAbsent(or: headDim, md, key("rope.dimension_count"),
                          because: "the head dimension (\(headDimSource)): RoPE over the whole head")
        try requireAbsent(or: 0, md, key("expert_count"), because: "there are no mixture-of-experts layers")
        try requireAbsent(or: 0, md, key("expert_used_count"), because: "there are no mixture-of-experts layers")
        let vocabulary = try vocabularySize(file)
        try requireAbsent(or: vocabulary, md, key("vocab_size"), because: "the rows of token_embd.weight")
        let base = Float(try md.boundedReal(key("rope.freq_base"), in: b.ropeBase, lowerExclusive: true, default: 10000))
        return DecoderConfig(
            architecture: arch, layers: layers, embedding: d, heads: heads, kvHeads: kvHeads,
            headDim: headDim, feedForward: try md.boundedInt(key("feed_forward_length"), in: b.feedForward),
            vocabulary: vocabulary, contextLength: try md.boundedInt(key("context_length"), in: b.contextLength),
            normEpsilon: Float(try md.boundedReal(key("attention.layer_norm_rms_epsilon"), in: b.normEpsilon)),
            ropeStyle: .normal, ropeBase: base, ropeBaseSliding: base,
            slidingWindow: nil, slidingLayers: Array(repeating: false, count: layers),
            attentionScale: 1 / Float(headDim).squareRoot(), embeddingScale: nil,
            activation: .silu, qkvBias: false, qkNorm: false, postNorms: false)
    }

    /// A key that may be absent but, when present, must be `expected`.
    private static func requireAbsent(or expected: Int, _ md: GGUFMetadata, _ key: String, because why: String) throws {
        guard let value = md[key] else { return }
        guard (try? md.boundedInt(key, in: expected...expected)) != nil else {
            throw ModelError.badMetadata(key: key, value: value.metadataDescription, expected: "\(expected): \(why)")
        }
    }

    /// The vocabulary is the embedding matrix's row count (the metadata key is optional).
    static func vocabularySize(_ file: GGUFFile) throws -> Int {
        guard let embd = file.tensor(named: "token_embd.weight") else { throw ModelError.missingTensor("token_embd.weight") }
        guard embd.shape.count == 2, HyperparameterBounds.vocabulary.contains(embd.shape[1]) else {
            throw ModelError.badTensorShape(name: embd.name, expected: [-1, -1], actual: embd.shape)
        }
        return embd.shape[1]
    }
}

