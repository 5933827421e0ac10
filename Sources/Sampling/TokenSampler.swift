// The sampling chain: how the next token is chosen from the model's logits. Every step is a
// fixed sequence of float operations in a fixed order, and the only randomness is one uniform
// draw that depends on (seed, step) alone, so a sampled continuation is a pure function of the
// model file, the prompt, the parameters and the seed (protocol/README.md, "Sampling").
//
// The order:
//  1. Penalties, over the last `penaltyLastN` tokens of prompt + generated text. For each token t
//     occurring c ≥ 1 times there: z = z > 0 ? z / repeatPenalty : z * repeatPenalty, then
//     z = z − c·frequencyPenalty − presencePenalty (Float arithmetic, in that order).
//  2. temperature 0: the highest logit wins (the lower id on a tie). Done.
//  3. Candidates: finite logits sorted by (logit descending, id ascending); the first topK kept.
//  4. y = z / temperature (Float); p_i = exp(y_i − y_0) with reprolm's own exp, as Double.
//  5. topP < 1: keep the shortest prefix whose running sum (Double, in order) reaches
//     topP × Σ p (Σ over step 3's candidates).
//  6. minP > 0: keep the prefix of tokens with p_i ≥ minP × p_0.
//  7. u = CounterRNG(seed).uniform(step: t), t = tokens generated before this one (0 first);
//     target = u × Σ kept p; the first token whose running sum exceeds target is chosen (the last
//     kept token if rounding leaves none).
// Under a constraint (a grammar), the tokens it does not allow count as -inf after step 1: they
// are never candidates, and everything else is as above. Only as many tokens are checked as the
// chain needs (the best topK allowed ones), which is the same set masking every token would give.
import Kernels

/// Chooses tokens for one request.
public struct TokenSampler: Sendable {
    public let parameters: SamplingParameters
    public let rng: CounterRNG

    public init(parameters: SamplingParameters, seed: UInt64) {
        self.parameters = parameters
        rng = CounterRNG(seed: seed)
    }

    /// The token for generation step `step`, given the raw logits and every token so far.
    /// Returns nil only when no logit is finite.
    public func choose(logits: [Float], history: [Int32], step: UInt64) -> Int32? {
        var z = logits
        if parameters.penaltiesActive { Self.applyPenalties(&z, history: history, parameters: parameters) }
        return z.withUnsafeBufferPointer { z in
            if parameters.isGreedy { return TopTokens.argmax(z) }
            return sample(z, step: step)
        }
    }

    /// The same choice when only tokens `allowed` accepts may be chosen (`everyAllowed`: all of
    /// them, in any order); nil when none may.
    public func choose(logits: [Float], history: [Int32], step: UInt64,
                       allowed: (Int32) -> Bool, everyAllowed: () -> [Int32]) -> Int32? {
        var z = logits
        if parameters.penaltiesActive { Self.applyPenalties(&z, history: history, parameters: parameters) }
        return z.withUnsafeBufferPointer { z in
            let wanted = parameters.isGreedy ? 1 : parameters.topK > 0 ? min(parameters.topK, z.count) : z.count
            let candidates = TopTokens.firstAllowed(wanted, from: z, allowed, everyAllowed: everyAllowed)
            if parameters.isGreedy { return candidates.first }
            return sample(z, candidates: candidates, step: step)
        }
    }

    static func applyPenalties(_ z: inout [Float], history: [Int32], parameters p: SamplingParameters) {
        let window = p.penaltyLastN < 0 ? history[...] : history.suffix(p.penaltyLastN)
        var counts: [Int32: Int] = [:]
        for t in window where t >= 0 && Int(t) < z.count { counts[t, default: 0] += 1 }
        for (t, c) in counts {
            var v = z[Int(t)]
            if p.repeatPenalty != 1 { v = v > 0 ? v / p.repeatPenalty : v * p.repeatPenalty }
            v = v - Float(c) * p.frequencyPenalty - p.presencePenalty
            z[Int(t)] = v
        }
    }

    private func sample(_ z: UnsafeBufferPointer<Float>, step: UInt64) -> Int32? {
        let p = parameters
        let limit = p.topK > 0 ? min(p.topK, z.count) : z.count
        return sample(z, candidates: TopTokens.select(limit, from: z), step: step)
    }

    /// Steps 4-7 over the candidates of step 3.
    private func sample(_ z: UnsafeBufferPointer<Float>, candidates: [Int32], step: UInt64) -> Int32? {
        let p = parameters
        guard let first = candidates.first else { return nil }
        let y0 = z[Int(first)] / p.temperature
        var weights = candidates.map { Double(Math.exp(z[Int($0)] / p.temperature - y0)) }
        var kept = weights.count
        if p.topP < 1 {
            let total = weights.reduce(0, +)
            let goal = Double(p.topP) * total
            var running = 0.0
            for (i, w) in weights.enumerated() {
                running += w
                if running >= goal { kept = i + 1; break }
            }
        }
        if p.minP > 0 {
            let threshold = Double(p.minP) * weights[0]
            kept = min(kept, max(1, weights.prefix(kept).prefix { $0 >= threshold }.count))
        }
        weights.removeLast(weights.count - kept)
        let target = rng.uniform(step: step) * weights.reduce(0, +)
        var running = 0.0
        for (i, w) in weights.enumerated() {
            running += w
            if target < running { return candidates[i] }
        }
        return candidates[kept - 1]
    }
}
