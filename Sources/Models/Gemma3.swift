// gemma3 (Gemma 3 270M): the decoder with Gemma's changes: embeddings scaled by sqrt(d), RMSNorm
// of Q and K per head, RMSNorm after attention and after the feed-forward (before each residual
// add), GELU (tanh) gating, NeoX RoPE, and sliding-window attention (window from the file, 512)
// on five layers of every six, those layers with RoPE base 10000 and the others with the file's
// base. The GGUF converter already stores Gemma's norm weights as (1 + w), so the norms are
// plain RMSNorms here. Queries are scaled by 1/sqrt(head_dim), as for the other models.
// Reference: llama.cpp src/models/gemma3.cpp and its Gemma 3 hyperparameters (structure only).
import ModelFiles

enum Gemma3 {
    /// Every sixth layer (index 5, 11, ...) attends globally; the others use the window.
    static let slidingPattern = 6
    static let slidingRopeBase: Float = 10000

    static func config(_ file: GGUFFile, architecture arch: String) throws -> DecoderConfig {
        var c = try DecoderConfig.standard(file, architecture: arch)
        let md = file.metadata
        let windowKey = "\(arch).attention.sliding_window"
        let window = md[windowKey] == nil ? nil : try md.boundedInt(windowKey, in: HyperparameterBounds.slidingWindow)
        // c.layers is within its bounds here: standard() read it checked.
        c.slidingWindow = window
        c.slidingLayers = (0..<c.layers).map { window != nil && $0 % slidingPattern < slidingPattern - 1 }
        c.ropeBaseSliding = window == nil ? c.ropeBase : slidingRopeBase
        c.ropeStyle = .neox
        c.embeddingScale = Float(c.embedding).squareRoot()
        c.activation = .geluTanh
        c.qkNorm = true
        c.postNorms = true
        return c
    }
}
