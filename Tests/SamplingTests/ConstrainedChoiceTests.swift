// Under a constraint the sampler checks only as many candidates as it needs (TopTokens.firstAllowed);
// the contract is that this is exactly the chain run on logits where every disallowed token is
// -inf. Checked on random logits (ties included), allowed sets of every density, penalties on,
// greedy and sampled, small and unbounded topK.
import XCTest
@testable import Sampling

final class ConstrainedChoiceTests: XCTestCase {
    /// A small deterministic generator (the test must not depend on the system's).
    struct SplitMix { var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
    }

    func testTheLazyChoiceEqualsMaskingEveryToken() {
        var rng = SplitMix(state: 7)
        var compared = 0, checksSaved = 0
        for trial in 0..<400 {
            let vocabulary = [50, 300, 5000][trial % 3]
            // Coarse logits make ties common; a few are -inf.
            let logits: [Float] = (0..<vocabulary).map { _ in
                let r = rng.next() % 100
                return r == 0 ? -.infinity : Float(Int(rng.next() % 40) - 20) / 4
            }
            let density = [0.0005, 0.01, 0.2, 0.9][trial % 4]
            let allowedSet = Set((0..<Int32(vocabulary)).filter { _ in Double(rng.next() % 10_000) / 10_000 < density })
            var p = SamplingParameters()
            p.temperature = [0, 0.7, 1.3][trial % 3]
            p.topK = [0, 1, 40, 200][(trial / 3) % 4]
            p.topP = [1, 0.9][trial % 2]
            p.minP = [0, 0.05][(trial / 2) % 2]
            p.repeatPenalty = trial % 5 == 0 ? 1.3 : 1
            let history: [Int32] = (0..<20).map { _ in Int32(rng.next() % UInt64(vocabulary)) }
            let sampler = TokenSampler(parameters: p, seed: UInt64(trial))
            var checks = 0
            for step in 0..<3 {
                let lazy = sampler.choose(logits: logits, history: history, step: UInt64(step),
                                          allowed: { checks += 1; return allowedSet.contains($0) },
                                          everyAllowed: { Array(allowedSet) })
                // Penalties act on the logits before the mask, as in the contract; masking a
                // penalised -inf stays -inf.
                var penalised = logits
                if p.penaltiesActive { TokenSampler.applyPenalties(&penalised, history: history, parameters: p) }
                let reference = penalised.enumerated().map { allowedSet.contains(Int32($0.offset)) ? $0.element : -.infinity }
                let plain = TokenSampler(parameters: { var q = p; q.repeatPenalty = 1; q.presencePenalty = 0; q.frequencyPenalty = 0; return q }(),
                                         seed: UInt64(trial))
                XCTAssertEqual(lazy, plain.choose(logits: reference, history: history, step: UInt64(step)),
                               "trial \(trial) step \(step)")
                compared += 1
            }
            checksSaved += max(0, 3 * vocabulary - checks)
        }
        XCTAssertEqual(compared, 1200)
        XCTAssertGreaterThan(checksSaved, 0)
    }
}
