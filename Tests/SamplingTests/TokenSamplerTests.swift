// The sampling chain: greedy ties, the cut-offs, the penalties' arithmetic, and that seeded draws
// follow the distribution (a fixed seed makes the frequency check exact, never flaky).
import XCTest
import Foundation
@testable import Sampling

final class TokenSamplerTests: XCTestCase {
    func sampler(_ configure: (inout SamplingParameters) -> Void, seed: UInt64 = 1) -> TokenSampler {
        var p = SamplingParameters()
        configure(&p)
        return TokenSampler(parameters: p, seed: seed)
    }

    /// Plain sampling from the softmax: no truncation, no penalties.
    func plain(temperature: Float = 1, seed: UInt64 = 1) -> TokenSampler {
        sampler({ $0.temperature = temperature; $0.topK = 0; $0.topP = 1; $0.minP = 0 }, seed: seed)
    }

    func testGreedyTakesTheHighestLogitAndTheLowerIdOnATie() {
        let greedy = sampler { $0.temperature = 0 }
        XCTAssertEqual(greedy.choose(logits: [1, 3, 2, 3], history: [], step: 0), 1)
        XCTAssertEqual(greedy.choose(logits: [-.infinity, .nan, -5], history: [], step: 0), 2)
        XCTAssertNil(greedy.choose(logits: [-.infinity, .nan], history: [], step: 0))
    }

    func testTopKOfOneIsGreedyWhateverTheDraw() {
        let s = sampler { $0.temperature = 1.5; $0.topK = 1; $0.topP = 1; $0.minP = 0 }
        for step in 0..<200 { XCTAssertEqual(s.choose(logits: [0.5, 2, 2, 1], history: [], step: UInt64(step)), 1) }
    }

    func testADrawDependsOnlyOnSeedAndStep() {
        let logits: [Float] = (0..<50).map { Float($0 % 7) * 0.3 }
        let a = plain(seed: 99), b = plain(seed: 99), c = plain(seed: 100)
        let first = (0..<64).map { a.choose(logits: logits, history: [], step: UInt64($0))! }
        // Asked in another order, with another history (no penalties): the same tokens.
        let reversed = (0..<64).reversed().map { b.choose(logits: logits, history: [1, 2, 3], step: UInt64($0))! }
        XCTAssertEqual(first, Array(reversed.reversed()))
        XCTAssertNotEqual(first, (0..<64).map { c.choose(logits: logits, history: [], step: UInt64($0))! })
    }

    func testDrawsFollowTheDistribution() {
        // p ∝ 1, 2, 3, 4 (logits ln 1 ... ln 4).
        let logits: [Float] = [0, Float(log(2.0)), Float(log(3.0)), Float(log(4.0))]
        let s = plain()
        var counts = [0, 0, 0, 0]
        let n = 20_000
        for step in 0..<n { counts[Int(s.choose(logits: logits, history: [], step: UInt64(step))!)] += 1 }
        for (i, c) in counts.enumerated() {
            XCTAssertEqual(Double(c) / Double(n), Double(i + 1) / 10, accuracy: 0.015, "token \(i): \(counts)")
        }
        // Temperature 0.5 squares the odds: p ∝ 1, 4, 9, 16.
        let cold = plain(temperature: 0.5, seed: 5)
        counts = [0, 0, 0, 0]
        for step in 0..<n { counts[Int(cold.choose(logits: logits, history: [], step: UInt64(step))!)] += 1 }
        for (i, c) in counts.enumerated() {
            XCTAssertEqual(Double(c) / Double(n), Double((i + 1) * (i + 1)) / 30, accuracy: 0.015, "token \(i): \(counts)")
        }
    }

    func testTopPAndMinPCutTheTail() {
        // p = 0.5, 0.3, 0.2 (in logit order 0, 1, 2).
        let logits: [Float] = [Float(log(0.5)), Float(log(0.3)), Float(log(0.2))]
        let topP = sampler { $0.temperature = 1; $0.topK = 0; $0.topP = 0.75; $0.minP = 0 }
        let minP = sampler { $0.temperature = 1; $0.topK = 0; $0.topP = 1; $0.minP = 0.5 }
        var seenTopP = Set<Int32>(), seenMinP = Set<Int32>()
        for step in 0..<2000 {
            seenTopP.insert(topP.choose(logits: logits, history: [], step: UInt64(step))!)
            seenMinP.insert(minP.choose(logits: logits, history: [], step: UInt64(step))!)
        }
        XCTAssertEqual(seenTopP, [0, 1], "0.5 + 0.3 reaches 0.75: token 2 is cut")
        XCTAssertEqual(seenMinP, [0, 1], "0.2 < 0.5 × 0.5: token 2 is cut")
    }

    func testPenaltiesArithmetic() {
        var p = SamplingParameters()
        p.repeatPenalty = 2
        p.frequencyPenalty = 0.5
        p.presencePenalty = 1
        p.penaltyLastN = 3
        var z: [Float] = [4, -4, 4, 4]
        // Window: the last 3 tokens [1, 1, 2]; token 3 is outside it.
        TokenSampler.applyPenalties(&z, history: [3, 1, 1, 2], parameters: p)
        let expected: [Float] = [4, -10, 0.5, 4]   // -4·2 − 2·0.5 − 1 and 4/2 − 1·0.5 − 1
        XCTAssertEqual(z, expected)
        var whole = p
        whole.penaltyLastN = -1
        z = [4, -4, 4, 4]
        TokenSampler.applyPenalties(&z, history: [3, 1, 1, 2], parameters: whole)
        XCTAssertEqual(z[3], Float(0.5))
        // The penalty steers greedy decoding away from a repeated token.
        let greedy = sampler { $0.temperature = 0; $0.repeatPenalty = 3 }
        XCTAssertEqual(greedy.choose(logits: [3, 2], history: [0], step: 0), 1)
    }

    func testTopTokensSelectionMatchesAFullSort() {
        var state: UInt64 = 12345
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 59)) * 0.25   // few distinct values: many ties
        }
        for _ in 0..<50 {
            let logits = (0..<300).map { _ in next() }
            logits.withUnsafeBufferPointer { z in
                let full = TopTokens.sortedAll(z, limit: z.count)
                for k in [1, 5, 37] { XCTAssertEqual(TopTokens.select(k, from: z), Array(full.prefix(k))) }
                XCTAssertEqual(TopTokens.argmax(z), full.first)
            }
        }
    }

    func testLogSoftmaxNormalises() {
        let logits: [Float] = (0..<1000).map { Float(($0 * 37) % 101) / 10 - 5 }
        let ls = LogSoftmax(logits)
        let total = logits.reduce(0.0) { $0 + exp(Double(ls.logprob(ofLogit: $1))) }
        XCTAssertEqual(total, 1, accuracy: 1e-4)
        logits.withUnsafeBufferPointer { z in
            let top = ls.top(3, of: z)
            XCTAssertEqual(top.map(\.token), [30, 131, 232], "equal logits in increasing id")
        }
    }

    func testOwnLogExpAndPowAgreeWithLibm() {
        var x = 1e-300
        while x < 1e300 {
            XCTAssertEqual(ReproMath.log(x), Foundation.log(x), accuracy: abs(Foundation.log(x)) * 4e-16 + 1e-300, "log \(x)")
            x *= 1.7
        }
        for x in stride(from: -700.0, through: 700.0, by: 0.37) {
            XCTAssertEqual(ReproMath.exp(x), Foundation.exp(x), accuracy: Foundation.exp(x) * 1e-15, "exp \(x)")
        }
        XCTAssertEqual(ReproMath.pow(7, 1.3), Foundation.pow(7, 1.3), accuracy: 1e-14)
        XCTAssertEqual(ReproMath.pow(5, 0), 1)
    }
}
