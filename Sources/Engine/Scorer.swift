// `score`: the log-probability of each token given every token before it, under the model's own
// distribution. The first token has no context and so no logprob; with a context, only the
// continuation's tokens are scored (each still conditioned on everything before it). A context
// the model's prefix cache holds is not run again: its rows' logits are not needed.
import Models
import Sampling

public struct ScoreRequest: Sendable {
    public var tokens: [Int32]
    /// Index of the first token scored (at least 1: token 0 has nothing before it).
    public var firstScored: Int
    public var topLogprobs: Int

    public init(tokens: [Int32], firstScored: Int = 1, topLogprobs: Int = 0) {
        self.tokens = tokens
        self.firstScored = max(1, firstScored)
        self.topLogprobs = topLogprobs
    }
}

public struct ScoredToken: Sendable {
    public let token: Int32
    /// nil for tokens not scored (the first token, and a context's tokens).
    public let logprob: Float?
    public let top: [TokenLogprob]
}

public struct ScoreResult: Sendable {
    public var tokens: [ScoredToken]
    /// Σ logprob over the scored tokens, accumulated in Double in token order.
    public var sum: Double
    public var count: Int
    /// sum / count, and e^(−mean); nil when nothing was scored.
    public var mean: Double?
    public var perplexity: Double?
    /// Leading tokens whose keys and values came from the model's prefix cache.
    public var cachedTokens = 0
}

public struct Scorer: Sendable {
    public let generator: Generator
    /// Rows per forward step: every row's logits are kept (rows × vocabulary floats), so this is
    /// smaller than the prefill chunk (64 × 262,144 floats is 64 MiB for Gemma 3).
    public static let chunk = 64

    public init(generator: Generator) { self.generator = generator }

    public func checkFits(_ request: ScoreRequest) throws {
        if request.tokens.isEmpty { throw EngineError.emptyPrompt }
        try generator.checkTokens(request.tokens)
        let limit = generator.decoder.config.contextLength
        if request.tokens.count > limit {
            throw EngineError.contextOverflow(promptTokens: request.tokens.count, maxTokens: 0, contextLength: limit)
        }
    }

    public func score(_ request: ScoreRequest) async throws -> ScoreResult {
        try checkFits(request)
        let decoder = generator.decoder
        let vocabulary = decoder.config.vocabulary
        let tokens = request.tokens
        // Only rows before firstScored − 1 may come from the cache (their logits are not needed).
        let (sequence, cached) = generator.startSequence(for: Array(tokens.prefix(request.firstScored)))
        defer { generator.model.prefixCache?.offer(sequence) }
        var scored = (0..<min(request.firstScored, tokens.count)).map { ScoredToken(token: tokens[$0], logprob: nil, top: []) }
        var sum = 0.0
        // Row i's logits predict token i + 1; rows before firstScored − 1 only fill the cache.
        let inputs = Array(tokens.dropLast())
        var start = cached
        while start < inputs.count {
            try Task.checkCancellation()
            let end = min(inputs.count, start + Self.chunk)
            let wanted = end > request.firstScored - 1
            let logits = try await generator.scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: Array(inputs[start..<end]),
                                                                                   logits: wanted ? .all : .none))
            if wanted {
                logits.withUnsafeBufferPointer { all in
                    for row in start..<end where row + 1 >= request.firstScored {
                        let z = UnsafeBufferPointer(rebasing: all[((row - start) * vocabulary)..<((row - start + 1) * vocabulary)])
                        let normalizer = LogSoftmax(z)
                        let target = tokens[row + 1]
                        let lp = normalizer.logprob(ofLogit: z[Int(target)])
                        sum += Double(lp)
                        scored.append(ScoredToken(token: target, logprob: lp, top: normalizer.top(request.topLogprobs, of: z)))
                    }
                }
            }
            start = end
        }
        let count = scored.count - min(request.firstScored, tokens.count)
        let mean = count > 0 ? sum / Double(count) : nil
        return ScoreResult(tokens: scored, sum: sum, count: count, mean: mean, perplexity: mean.map { ReproMath.exp(-$0) },
                           cachedTokens: cached)
    }
}
