// What a generation is asked for and what it returns, independent of JSON (RPCProtocol maps
// these to and from the wire).
import Grammar
import Sampling

/// One generation request, every parameter resolved (defaults applied, prompt tokenized).
public struct GenerationRequest: Sendable {
    public var prompt: [Int32]
    public var maxTokens: Int
    public var stop: [String] = []
    public var sampling = SamplingParameters()
    /// 1: sampling (or greedy); more: beam search with this many beams.
    public var beams = 1
    /// Beam search ranks finished hypotheses by sum of logprobs / length^lengthPenalty.
    public var lengthPenalty: Float = 1
    public var seed: UInt64
    public var logprobs = false
    /// Alternatives reported per token (with `logprobs`).
    public var topLogprobs = 0
    /// Only tokens that keep the text a valid prefix of this grammar are chosen (not with beams).
    public var grammar: Grammar?

    public init(prompt: [Int32], maxTokens: Int, seed: UInt64) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.seed = seed
    }
}

/// Why generation ended.
public enum FinishReason: String, Sendable {
    /// An end-of-generation token or a stop string.
    case stop
    /// `maxTokens` were generated.
    case length
    /// The request was cancelled; what was generated until then is returned.
    case cancelled
}

/// One generated token with its log-probability under the model and the best alternatives.
public struct TokenChoice: Sendable, Equatable {
    public let token: Int32
    public let logprob: Float
    public let top: [TokenLogprob]
}

/// Streamed while generating: the new text and tokens since the last delta.
public struct GenerationDelta: Sendable {
    public let text: String
    public let tokens: [Int32]
    public let logprobs: [TokenChoice]
}

/// Wall-clock times of a generation (reported, never part of what is reproduced).
public struct GenerationTimings: Sendable {
    public var prefillSeconds: Double = 0
    public var decodeSeconds: Double = 0
}

public struct GenerationResult: Sendable {
    public var text: String
    /// Every generated token, including an end-of-generation token and the tokens that
    /// completed a stop string (whose text is cut from `text`).
    public var tokens: [Int32]
    public var finishReason: FinishReason
    /// The stop string that ended generation, if one did.
    public var stopSequence: String?
    /// Per generated token, when `logprobs` was asked for.
    public var logprobs: [TokenChoice]?
    public var promptTokens: Int
    public var timings: GenerationTimings
    /// Prompt tokens whose keys and values came from the model's prefix cache (not prefilled).
    public var cachedPromptTokens = 0
}
