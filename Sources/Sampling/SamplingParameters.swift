// What decides the next token: the sampling chain's knobs. Defaults are llama.cpp's (what users
// of local models expect); protocol/openrpc.json states them, and the receipt of a request (issue
// 4) records every value after defaults, so a later change of defaults never changes a replay.

/// The parameters of the sampling chain (see `TokenSampler` for the order they apply in).
public struct SamplingParameters: Sendable, Equatable {
    /// 0 picks the most likely token (greedy); above 0, logits are divided by it before sampling.
    public var temperature: Float = 0.8
    /// Keep only the k most likely tokens; 0 keeps all.
    public var topK: Int = 40
    /// Keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all.
    public var topP: Float = 0.95
    /// Drop tokens less likely than minP times the most likely one; 0 keeps all.
    public var minP: Float = 0.05
    /// Divides positive logits (multiplies negative ones) of tokens in the penalty window; 1 is off.
    public var repeatPenalty: Float = 1.0
    /// Subtracted once from the logit of every token in the penalty window; 0 is off.
    public var presencePenalty: Float = 0
    /// Subtracted per occurrence in the penalty window; 0 is off.
    public var frequencyPenalty: Float = 0
    /// How many of the last tokens (prompt and generated) the penalties look at; -1 means the whole
    /// context, 0 turns the penalties off.
    public var penaltyLastN: Int = 64

    public init() {}

    public static let defaults = SamplingParameters()

    public var isGreedy: Bool { temperature == 0 }

    var penaltiesActive: Bool {
        penaltyLastN != 0 && (repeatPenalty != 1 || presencePenalty != 0 || frequencyPenalty != 0)
    }
}
