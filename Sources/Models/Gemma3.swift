// gemma3 (Gemma 3 270M): the decoder with Gemma's changes: embeddings scaled by sqrt(d), RMSNorm
// of Q and K per head, RMSNorm after attention and after the feed-forward (before each residual
// add), GELU (tanh) gating, queries pre-scaled by 1/sqrt(head_dim), and sliding-window attention
// (window from the file, 512) on five layers of every six, those layers with RoPE base 10000 and
// the others with the file's base. The GGUF converter already stores Gemma's norm weights as
// (1 + w), so the norms are plain RMSNorms here.
// Reference: llama.cpp src/models/gemma3.cpp and its Gemma 3 hyperparameters (structure only).
import ModelFiles

enum Gemma3 {
    /// Every sixth layer (index 5, 11, ...) attends globally; the others use the window.
    static let slidingPattern = 6
    static let slidingRopeBase: Float = 10000

    static func config(_ file: GGUFFile, architecture arch: String) throws -> DecoderConfig {
        let md = file.metadata
        let d = try md.archInt(arch, "embedding_length")
        let heads = try md.archInt(arch, "attention.head_count")
        let headDim = try md.archInt(arch, "attention.key_length", default: heads > 0 ? d / heads : 0)
        let layers = try md.archInt(arch, "block_count")
        let window = md["\(arch).attention.sliding_window"] == nil ? nil : try md.archInt(arch, "attention.sliding_window")
        let sliding = (0..<max(0, layers)).map { window != nil && $0 % slidingPattern < slidingPattern - 1 }
        return DecoderConfig(
            architecture: arch, layers: layers, embedding: d, heads: heads,
            kvHeads: try md.archInt(arch, "attention.head_count_kv", default: heads),
            headDim: headDim, feedForward: try md.archInt(arch, "feed_forward_length"),
            vocabulary: try Llama.vocabularySize(file, arch: arch),
            contextLength: try md.archInt(arch, "context_length"),
            normEpsilon: try md.archFloat(arch, "attention.layer_norm_rms_epsilon"),
            ropeStyle: .neox, ropeBase: try md.archFloat(arch, "rope.freq_base", default: 10000),
            ropeBaseSliding: slidingRopeBase, slidingWindow: window, slidingLayers: sliding,
            attentionScale: 1 / Float(headDim).squareRoot(), embeddingScale: Float(d).squareRoot(),
            activation: .geluTanh, qkvBias: false, qkNorm: true, postNorms: true)
    }
}
