// Fill in the middle: a code model is shown the text before and after a gap and writes the gap.
// The prompt is laid out exactly as llama.cpp's server lays out an `/infill` request that carries
// only `input_prefix` and `input_suffix`, with the server's default options (format_prompt_infill
// in tools/server/server-common.cpp), so that a greedy infill here is llama-server's wherever its
// top two logits are not a near-tie:
//
//   [FIM_REP] "myproject\n" [FIM_SEP] "filename\n" [BOS] [FIM_PRE] prefix [FIM_SUF] suffix [FIM_MID]
//
// - The repository-level header (Qwen2.5-Coder's training format, arXiv 2409.12186) is written
//   only for the tokens the vocabulary has: FIM_REP and the project name if it has a repository
//   token, FIM_SEP and the file name if it has a file separator. llama-server writes these
//   placeholder names (its own TODOs: neither is an input yet), and the model was trained to
//   expect the header, so it is reproduced as is.
// - BOS only where the vocabulary adds one, after the header: llama-server puts its extra
//   context (the header) in front of everything, BOS included.
// - Prefix, suffix and header texts are tokenized without special tokens and without parsing
//   special-token text, as llama-server does.
// - Lengths: llama-server fits prefix and suffix into one logical batch (its --batch-size, 2048 by
//   default), three quarters to the prefix and one quarter less two to the suffix: the prefix keeps
//   its last 1536 tokens and the suffix its first 510. The header is kept, from its end, only as
//   far as the context has room beyond a batch (n_ctx − n_batch − 2·n_predict with the server's
//   n_predict −1); here n_ctx is the model's context length.
// - The suffix-prefix-middle order (llama-server's --spm-infill, off by default) is not offered,
//   nor the extra files (`input_extra`) or the text after FIM_MID (`prompt`) of /infill.
// Provenance: llama.cpp tools/server/server-common.cpp and server-context.cpp (post_infill).

/// A vocabulary's fill-in-the-middle tokens (llama.cpp's llama_vocab_fim_*), nil where it has
/// none: `tokenizer.ggml.fim_pre_token_id` ... `fim_sep_token_id` (or the older `prefix_token_id`,
/// `suffix_token_id`, `middle_token_id`) when the file names them, else the token whose text is
/// one of llama.cpp's candidates (SpecialTextDetector).
public struct FIMTokens: Sendable, Equatable {
    public var prefix: Int32?
    public var suffix: Int32?
    public var middle: Int32?
    public var pad: Int32?
    /// FIM_REP: starts the repository-level header (Qwen's `<|repo_name|>`).
    public var repository: Int32?
    /// FIM_SEP: separates files in the header (Qwen's `<|file_sep|>`).
    public var fileSeparator: Int32?

    public init(prefix: Int32? = nil, suffix: Int32? = nil, middle: Int32? = nil, pad: Int32? = nil,
                repository: Int32? = nil, fileSeparator: Int32? = nil) {
        self.prefix = prefix
        self.suffix = suffix
        self.middle = middle
        self.pad = pad
        self.repository = repository
        self.fileSeparator = fileSeparator
    }

    /// llama-server refuses /infill unless the model has all three of these.
    public var canInfill: Bool { prefix != nil && suffix != nil && middle != nil }
}

/// The token layout of an infill prompt, from already tokenized parts.
public enum InfillLayout {
    /// llama-server's default logical batch (`--batch-size`), which bounds prefix and suffix.
    public static let serverBatch = 2048
    /// llama-server's default `--n-predict` (−1, no limit), which enters the header's room.
    static let serverPredict = -1
    /// The most prefix tokens kept (the last ones): three quarters of a batch.
    public static let maxPrefixTokens = 3 * (serverBatch / 4)
    /// The most suffix tokens kept (the first ones): a quarter of a batch less FIM_PRE and FIM_SUF
    /// (llama-server subtracts 2 plus the length of the text after FIM_MID, which is empty here).
    public static let maxSuffixTokens = max(0, serverBatch / 4 - 2)
    /// The header's placeholder texts, as llama-server writes them.
    public static let projectLine = "myproject\n"
    public static let fileLine = "filename\n"

    /// `header` is FIM_REP + project line and FIM_SEP + file line, each present only if the
    /// vocabulary has that token; `bos` is nil when no BOS is to be added. `fim` must `canInfill`.
    public static func compose(prefix: [Int32], suffix: [Int32], header: [Int32], bos: Int32?,
                               fim: FIMTokens, contextLength: Int) -> [Int32] {
        precondition(fim.canInfill, "compose needs FIM prefix, suffix and middle tokens")
        let headerRoom = max(0, contextLength - serverBatch - 2 * serverPredict)
        var out = Array(header.suffix(min(headerRoom, header.count)))
        if let bos { out.append(bos) }
        out.append(fim.prefix!)
        out += prefix.suffix(min(prefix.count, maxPrefixTokens))
        out.append(fim.suffix!)
        out += suffix.prefix(min(suffix.count, maxSuffixTokens))
        out.append(fim.middle!)
        return out
    }
}

extension Tokenizer {
    /// The vocabulary's fill-in-the-middle tokens.
    public var fimTokens: FIMTokens { vocabulary.fim }

    /// The infill prompt for the text before (`prefix`) and after (`suffix`) the gap, laid out as
    /// llama-server's `/infill` (InfillLayout); nil when the vocabulary cannot infill.
    /// `addSpecial` adds BOS where the vocabulary asks for it (llama-server always does);
    /// `parseSpecial` lets special-token text in prefix and suffix become those tokens
    /// (llama-server never does). Both default to llama-server's behaviour.
    public func infillPrompt(prefix: String, suffix: String, contextLength: Int,
                             addSpecial: Bool = true, parseSpecial: Bool = false) -> [Int32]? {
        let fim = vocabulary.fim
        guard fim.canInfill else { return nil }
        var header: [Int32] = []
        if let rep = fim.repository {
            header.append(rep)
            header += encode(InfillLayout.projectLine, addSpecial: false, parseSpecial: false)
        }
        if let sep = fim.fileSeparator {
            header.append(sep)
            header += encode(InfillLayout.fileLine, addSpecial: false, parseSpecial: false)
        }
        return InfillLayout.compose(
            prefix: encode(prefix, addSpecial: false, parseSpecial: parseSpecial),
            suffix: encode(suffix, addSpecial: false, parseSpecial: parseSpecial),
            header: header, bos: addSpecial && vocabulary.addBOS ? vocabulary.bos : nil,
            fim: fim, contextLength: contextLength)
    }
}
