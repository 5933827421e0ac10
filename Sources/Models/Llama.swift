// llama (SmolLM2) and qwen2 (Qwen2.5): pre-norm decoders with RMSNorm, RoPE, grouped-query
// attention and a SiLU-gated feed-forward. Qwen2 adds biases to Q, K and V, uses NeoX-style RoPE
// and (in the 0.5B model) a separate output matrix; llama ties the output to the embeddings
// when the file has no `output.weight`.
// Reference: llama.cpp src/models/llama.cpp and qwen2.cpp (structure only).
import ModelFiles

enum Llama {
    static func config(_ file: GGUFFile, architecture arch: String) throws -> DecoderConfig {
        var c = try DecoderConfig.standard(file, architecture: arch)
        c.ropeStyle = arch == "qwen2" ? .neox : .normal
        c.qkvBias = arch == "qwen2"
        return c
    }
}
