// Text-based detection of special tokens that GGUF files often leave unnamed (end of turn, fill in
// the middle, end of generation). The text lists are llama.cpp's (llama-vocab.cpp, "auto-detect
// special tokens by text"); they decide which tokens stop generation, so they must match.
//
// One deliberate difference: when several candidate texts of one kind are present (SmolLM2 and
// Qwen2.5 have both "<|im_end|>" and "<|endoftext|>"), llama.cpp takes whichever its
// std::unordered_map happens to visit first, an order that depends on the C++ library's hash
// function and bucket growth (libstdc++ and libc++ differ). We take the first text in the list
// order instead, which is stable and prefers the end-of-turn marker. This only changes which id
// `eotToken` reports; every candidate is in the end-of-generation set either way.

/// Finds special tokens by text and marks what it finds as control tokens.
struct SpecialTextDetector {
    let table: TokenTextTable
    var attributes: [TokenAttributes]

    init(table: TokenTextTable, attributes: [TokenAttributes]) {
        self.table = table
        self.attributes = attributes
    }

    /// The first of `texts` (in list order) that is a token; that token becomes a control token.
    mutating func find(_ texts: [String]) -> Int32? {
        for text in texts {
            if let id = table.id(of: text) {
                attributes[Int(id)].insert(.control)
                return id
            }
        }
        return nil
    }

    static let eotTexts = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
        "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ]
    static let fimPreTexts = [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
        "<|code_prefix|>", "<|prefix|>",
    ]
    static let fimSufTexts = [
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
        "<|code_suffix|>", "<|suffix|>",
    ]
    static let fimMidTexts = [
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
        "<|code_middle|>", "<|middle|>",
    ]
    static let fimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]
    static let fimRepTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]

    /// Every token with one of these texts ends generation (and becomes a control token).
    static let eogTexts = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ]
}
