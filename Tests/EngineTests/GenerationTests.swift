// generate and score on the real models: greedy decoding follows llama.cpp, and every result is
// the same bits whatever the thread count, the batch it ran in, or how its tokens were fed.
import XCTest
@testable import Engine
import Models
import Sampling

final class GenerationTests: XCTestCase {
    static let one = InferenceScheduler(threads: 1)
    static let two = InferenceScheduler(threads: 2)
    static let models = ["smollm2-135m", "qwen2.5-coder-0.5b", "gemma3-270m"]
    /// Below this gap between llama.cpp's top two logits, float and 8-bit arithmetic may disagree.
    static let nearTie = 0.5

    /// Our greedy continuation equals llama.cpp's at least up to llama.cpp's first near-tie.
    func testGreedyFollowsLlamaCppUpToItsFirstNearTie() async throws {
        for name in Self.models {
            let model = try await EngineFixtures.model(name)
            let generator = try Generator(model: model, scheduler: Self.two)
            for (i, golden) in try EngineFixtures.greedyGolden(name).enumerated() {
                let firstTie = golden.gaps.firstIndex { $0 < Self.nearTie } ?? golden.tokens.count
                // At the near-tie itself either token is a correct answer; every token before must agree.
                let ours = try await generator.generate(greedyRequest(golden.prompt, maxTokens: max(1, firstTie)))
                let agree = min(firstTie, golden.tokens.count)
                XCTAssertEqual(Array(ours.tokens.prefix(agree)), Array(golden.tokens.prefix(agree)),
                               "\(name) prompt \(i): differs before llama.cpp's first near-tie at \(firstTie)")
            }
        }
    }

    /// A seeded sampled request: identical tokens and logprobs with 1 or 2 threads, alone or
    /// batched with three other requests at other positions.
    func testSeededSamplingIsTheSameAloneOrBatchedAndForAnyThreadCount() async throws {
        let model = try await EngineFixtures.model("smollm2-135m")
        let prompt = model.tokenizer.encode("The recipe for a good loaf of bread", addSpecial: true, parseSpecial: false)
        var request = GenerationRequest(prompt: prompt, maxTokens: 24, seed: 7)
        request.sampling.temperature = 0.9
        request.sampling.repeatPenalty = 1.1
        request.logprobs = true
        request.topLogprobs = 3
        let alone = try await Generator(model: model, scheduler: Self.one).generate(request)
        XCTAssertEqual(alone.tokens.count, alone.finishReason == .length ? 24 : alone.tokens.count)

        let busy = try Generator(model: model, scheduler: Self.two)
        let others = ["Tell me about the sea.", "def fibonacci(n):", "Quarterly earnings rose"].enumerated().map { i, text in
            var r = GenerationRequest(prompt: model.tokenizer.encode(text, addSpecial: true, parseSpecial: false), maxTokens: 20 + 5 * i, seed: UInt64(i))
            r.sampling.temperature = 0.7
            return r
        }
        async let a = busy.generate(others[0])
        async let b = busy.generate(others[1])
        async let batched = busy.generate(request)
        async let c = busy.generate(others[2])
        let (_, _, result, _) = try await (a, b, batched, c)
        XCTAssertEqual(result.tokens, alone.tokens)
        XCTAssertEqual(bits(result.logprobs), bits(alone.logprobs))
        XCTAssertEqual(result.text, alone.text)
    }

    /// score's logprobs (prefilled in chunks, every row's logits) are bitwise generate's (one token
    /// per decode step), for a greedy and for a beam-search continuation.
    func testScoreEqualsGenerateLogprobsBitForBit() async throws {
        for name in ["smollm2-135m", "gemma3-270m"] {
            let model = try await EngineFixtures.model(name)
            let generator = try Generator(model: model, scheduler: Self.two)
            let prompt = model.tokenizer.encode("A short history of the telescope:", addSpecial: true, parseSpecial: false)
            var greedy = greedyRequest(prompt, maxTokens: 12)
            greedy.logprobs = true
            greedy.topLogprobs = 2
            var beam = greedy
            beam.beams = 3
            for request in [greedy, beam] {
                let generated = try await generator.generate(request)
                let scored = try await Scorer(generator: generator).score(
                    ScoreRequest(tokens: prompt + generated.tokens, firstScored: prompt.count, topLogprobs: 2))
                let fromScore = scored.tokens.dropFirst(prompt.count).map { TokenChoice(token: $0.token, logprob: $0.logprob!, top: $0.top) }
                XCTAssertEqual(bits(Array(fromScore)), bits(generated.logprobs), "\(name) beams \(request.beams)")
                XCTAssertEqual(scored.count, generated.tokens.count)
            }
        }
    }

    func testBeamSearchIsDeterministic() async throws {
        let model = try await EngineFixtures.model("smollm2-135m")
        let prompt = model.tokenizer.encode("The three primary colours are", addSpecial: true, parseSpecial: false)
        var request = greedyRequest(prompt, maxTokens: 16)
        request.beams = 4
        request.logprobs = true
        let first = try await Generator(model: model, scheduler: Self.one).generate(request)
        let second = try await Generator(model: model, scheduler: Self.two).generate(request)
        XCTAssertEqual(first.tokens, second.tokens)
        XCTAssertEqual(bits(first.logprobs), bits(second.logprobs))
        XCTAssertFalse(first.tokens.isEmpty)
        // Its hypothesis is at least as likely as greedy's when both run to the same length.
        let greedy = try await Generator(model: model, scheduler: Self.two).generate({ var r = request; r.beams = 1; return r }())
        if first.finishReason == .length, greedy.finishReason == .length {
            let sum = { (c: [TokenChoice]?) in (c ?? []).reduce(0.0) { $0 + Double($1.logprob) } }
            XCTAssertGreaterThanOrEqual(sum(first.logprobs), sum(greedy.logprobs) - 1e-9)
        }
    }

    func testStopStringsAndEndOfGeneration() async throws {
        let model = try await EngineFixtures.model("smollm2-135m")
        let generator = try Generator(model: model, scheduler: Self.two)
        let prompt = model.tokenizer.encode("Once upon a time", addSpecial: true, parseSpecial: false)
        let free = try await generator.generate(greedyRequest(prompt, maxTokens: 24))
        XCTAssertEqual(free.finishReason, .length)
        XCTAssertTrue(free.text.contains(" city"), free.text)
        var stopped = greedyRequest(prompt, maxTokens: 24)
        stopped.stop = [" city", "never appears"]
        let deltas = DeltaLog()
        let result = try await generator.generate(stopped) { deltas.add($0) }
        XCTAssertEqual(result.finishReason, .stop)
        XCTAssertEqual(result.stopSequence, " city")
        XCTAssertEqual(result.text, String(free.text[..<free.text.range(of: " city")!.lowerBound]))
        XCTAssertEqual(deltas.text, result.text)
        XCTAssertEqual(deltas.tokens, result.tokens)
        XCTAssertEqual(Array(free.tokens.prefix(result.tokens.count)), result.tokens)

        // An instruct model answering a chat-formatted prompt ends with its end-of-turn token.
        let chat = model.tokenizer.encode("<|im_start|>user\nSay hi.<|im_end|>\n<|im_start|>assistant\n", addSpecial: true, parseSpecial: true)
        let answer = try await generator.generate(greedyRequest(chat, maxTokens: 64))
        XCTAssertEqual(answer.finishReason, .stop)
        XCTAssertNil(answer.stopSequence)
        XCTAssertTrue(model.gguf!.tokenizer.isEndOfGeneration(answer.tokens.last!))
        XCTAssertFalse(answer.text.contains("<|im_end|>"))
    }

    func testCancellationStopsWithinOneStepAndKeepsWhatWasGenerated() async throws {
        let model = try await EngineFixtures.model("smollm2-135m")
        let generator = try Generator(model: model, scheduler: Self.two)
        let prompt = model.tokenizer.encode("1, 2, 3, 4, 5,", addSpecial: true, parseSpecial: false)
        let deltas = DeltaLog()
        let task = Task { try await generator.generate(greedyRequest(prompt, maxTokens: 2000)) { deltas.add($0) } }
        while deltas.count < 5 { try await Task.sleep(nanoseconds: 1_000_000) }
        let streamedAtCancel = deltas.count
        task.cancel()
        let result = try await task.value
        XCTAssertEqual(result.finishReason, .cancelled)
        // The step running when the cancel came, and at most one token chosen from its logits.
        XCTAssertLessThanOrEqual(result.tokens.count, streamedAtCancel + 2, "stopped within a step of the cancel")
        let reference = try await generator.generate(greedyRequest(prompt, maxTokens: result.tokens.count))
        XCTAssertEqual(result.tokens, reference.tokens)
    }

    func testRequestsThatDoNotFitAreRefusedBeforeAnyWork() async throws {
        let model = try await EngineFixtures.model("smollm2-135m")
        let generator = try Generator(model: model, scheduler: Self.one)
        let limit = model.decoder!.config.contextLength
        XCTAssertThrowsError(try generator.checkFits(promptTokens: 10, maxTokens: limit)) {
            XCTAssertEqual($0 as? EngineError, .contextOverflow(promptTokens: 10, maxTokens: limit, contextLength: limit))
        }
        do {
            _ = try await generator.generate(greedyRequest([], maxTokens: 4))
            XCTFail("an empty prompt must be refused")
        } catch { XCTAssertEqual(error as? EngineError, .emptyPrompt) }
        do {
            _ = try await generator.generate(greedyRequest([1, Int32(model.decoder!.config.vocabulary)], maxTokens: 4))
            XCTFail("an out-of-vocabulary token must be refused")
        } catch { XCTAssertEqual(error as? EngineError, .tokenOutOfRange(index: 1, token: Int32(model.decoder!.config.vocabulary), vocabulary: model.decoder!.config.vocabulary)) }
    }
}

/// Collects streamed deltas from the generation's thread.
final class DeltaLog: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [GenerationDelta] = []
    func add(_ d: GenerationDelta) { lock.lock(); parts.append(d); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return parts.reduce(0) { $0 + $1.tokens.count } }
    var text: String { lock.lock(); defer { lock.unlock() }; return parts.map(\.text).joined() }
    var tokens: [Int32] { lock.lock(); defer { lock.unlock() }; return parts.flatMap(\.tokens) }
}
