// The prefix cache reuses finished requests' KV caches and can never change a bit: every answer
// below is compared, tokens and logprob bit patterns, with the same request on a model whose
// cache keeps nothing (a cold prefill of the whole prompt).
import XCTest
@testable import Engine
import ModelStore
import TestSupport

final class PrefixCacheTests: XCTestCase {
    static let scheduler = InferenceScheduler(threads: 2)
    static let warmRegistry = ModelRegistry(store: ModelStore(root: TestModels.cacheRoot), prefixCacheBytes: 64 << 20)
    static let coldRegistry = ModelRegistry(store: ModelStore(root: TestModels.cacheRoot), prefixCacheBytes: 0)
    static let text = "In the beginning the printing press changed how ideas travelled: books became cheaper, " +
        "scholars could compare the same page in distant cities, and errors, once printed, spread as fast as truths. "

    func generators(_ name: String) async throws -> (warm: Generator, cold: Generator) {
        guard let path = TestModels.path(name) else { throw XCTSkip("run `reprolm pull \(name)` first") }
        let warm = try await Self.warmRegistry.load(path), cold = try await Self.coldRegistry.load(path)
        return (try Generator(model: warm, scheduler: Self.scheduler), try Generator(model: cold, scheduler: Self.scheduler))
    }

    func tokens(_ g: Generator, _ count: Int, offset: Int = 0) -> [Int32] {
        let base = g.model.tokenizer.encode(Self.text, addSpecial: false, parseSpecial: false)
        return (0..<count).map { base[($0 + offset) % base.count] }
    }

    func assertSame(_ a: GenerationResult, _ b: GenerationResult, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.tokens, b.tokens, what, file: file, line: line)
        XCTAssertEqual(bits(a.logprobs), bits(b.logprobs), what, file: file, line: line)
        XCTAssertEqual(a.finishReason, b.finishReason, what, file: file, line: line)
    }

    func sampled(_ prompt: [Int32], maxTokens: Int = 12) -> GenerationRequest {
        var r = GenerationRequest(prompt: prompt, maxTokens: maxTokens, seed: 11)
        r.sampling.temperature = 0.9
        r.sampling.repeatPenalty = 1.1
        r.logprobs = true
        r.topLogprobs = 2
        return r
    }

    /// A prefix ending inside the second prefill chunk (140 of 128 + 128), on every decoder.
    func testPrefixEndingInsideAChunkGivesTheColdBits() async throws {
        for name in ["smollm2-135m", "qwen2.5-coder-0.5b", "gemma3-270m"] {
            let (warm, cold) = try await generators(name)
            let first = tokens(warm, 150)
            _ = try await warm.generate(greedyRequest(first, maxTokens: 1))
            let second = Array(first.prefix(140)) + tokens(warm, 30, offset: 7)
            let hit = try await warm.generate(sampled(second))
            XCTAssertEqual(hit.cachedPromptTokens, 140, name)
            let coldAnswer = try await cold.generate(sampled(second))
            assertSame(hit, coldAnswer, "\(name): cached prefix of 140")
            XCTAssertEqual(coldAnswer.cachedPromptTokens, 0)
        }
    }

    /// A chat: each turn's prompt is the last prompt, the answer and a new message.
    func testMultiTurnReusesEachTurn() async throws {
        let (warm, cold) = try await generators("smollm2-135m")
        var prompt = tokens(warm, 60)
        for turn in 0..<3 {
            let request = sampled(prompt, maxTokens: 10)
            let answer = try await warm.generate(request)
            assertSame(answer, try await cold.generate(request), "turn \(turn)")
            if turn > 0 { XCTAssertGreaterThan(answer.cachedPromptTokens, 60, "turn \(turn) reuses the last turn") }
            prompt += answer.tokens + tokens(warm, 9, offset: 3 * turn)
        }
    }

    /// Beam search and greedy decoding from a cached prefix; the whole prompt cached but for its
    /// last token.
    func testBeamSearchAndRepeatedPrompt() async throws {
        let (warm, cold) = try await generators("qwen2.5-coder-0.5b")
        let prompt = tokens(warm, 90, offset: 2)
        let greedy = greedyRequest(prompt, maxTokens: 6)
        _ = try await warm.generate(greedy)
        let again = try await warm.generate(greedy)
        XCTAssertEqual(again.cachedPromptTokens, 89)
        assertSame(again, try await cold.generate(greedy), "repeated prompt")
        var beams = greedyRequest(prompt + tokens(warm, 5), maxTokens: 6)
        beams.beams = 3
        beams.logprobs = true
        assertSame(try await warm.generate(beams), try await cold.generate(beams), "beam search")
    }

    /// Under a budget that holds one entry (a 100-token sequence's cache is 5.6 MiB), older
    /// entries go first; answers stay the cold ones.
    func testEvictionKeepsAnswersExact() async throws {
        guard let path = TestModels.path("smollm2-135m") else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let one = try await ModelRegistry(store: ModelStore(root: TestModels.cacheRoot), prefixCacheBytes: 8 << 20).load(path)
        let tiny = try Generator(model: one, scheduler: Self.scheduler)
        let (_, cold) = try await generators("smollm2-135m")
        let a = tokens(tiny, 100), b = tokens(tiny, 100, offset: 40)
        _ = try await tiny.generate(greedyRequest(a, maxTokens: 2))
        _ = try await tiny.generate(greedyRequest(b, maxTokens: 2))
        let stats = one.prefixCache!.stats
        XCTAssertEqual(stats.entries, 1)
        XCTAssertGreaterThanOrEqual(stats.evictions, 1)
        XCTAssertLessThanOrEqual(stats.bytes, 8 << 20)
        let hit = try await tiny.generate(sampled(b + tokens(tiny, 4)))
        XCTAssertGreaterThanOrEqual(hit.cachedPromptTokens, 100, "b is kept")
        assertSame(hit, try await cold.generate(sampled(b + tokens(tiny, 4))), "kept entry")
        let afterEviction = try await tiny.generate(sampled(a + tokens(tiny, 4)))
        XCTAssertLessThan(afterEviction.cachedPromptTokens, 100, "a was evicted")
        assertSame(afterEviction, try await cold.generate(sampled(a + tokens(tiny, 4))), "after eviction")
    }

    /// `score` of a continuation after a context another request left in the cache.
    func testScoreAfterACachedContext() async throws {
        let (warm, cold) = try await generators("gemma3-270m")
        let context = tokens(warm, 170, offset: 5), continuation = tokens(warm, 20, offset: 11)
        _ = try await warm.generate(greedyRequest(context, maxTokens: 3))
        let request = ScoreRequest(tokens: context + continuation, firstScored: context.count, topLogprobs: 2)
        let hit = try await Scorer(generator: warm).score(request)
        let coldScore = try await Scorer(generator: cold).score(request)
        XCTAssertEqual(hit.cachedTokens, context.count - 1)
        XCTAssertEqual(coldScore.cachedTokens, 0)
        XCTAssertEqual(hit.tokens.map { $0.logprob?.bitPattern }, coldScore.tokens.map { $0.logprob?.bitPattern })
        XCTAssertEqual(hit.tokens.map { $0.top.map(\.logprob.bitPattern) }, coldScore.tokens.map { $0.top.map(\.logprob.bitPattern) })
        XCTAssertEqual(hit.sum.bitPattern, coldScore.sum.bitPattern)
    }

    /// A request sharing only the start of a long entry copies that prefix; the entry stays for
    /// the next request that extends it (taken over, not copied, since it covers the entry).
    func testShortSharedPrefixIsCopiedAndTheEntryStays() async throws {
        guard let path = TestModels.path("smollm2-135m") else { throw XCTSkip("run `reprolm pull smollm2-135m` first") }
        let model = try await ModelRegistry(store: ModelStore(root: TestModels.cacheRoot), prefixCacheBytes: 64 << 20).load(path)
        let warm = try Generator(model: model, scheduler: Self.scheduler)
        let (_, cold) = try await generators("smollm2-135m")
        let long = tokens(warm, 300)
        _ = try await warm.generate(greedyRequest(long, maxTokens: 1))
        let branch = Array(long.prefix(100)) + tokens(warm, 20, offset: 9)
        let copied = try await warm.generate(sampled(branch))
        XCTAssertEqual(copied.cachedPromptTokens, 100)
        assertSame(copied, try await cold.generate(sampled(branch)), "copied prefix")
        let extended = try await warm.generate(sampled(long + tokens(warm, 6, offset: 2)))
        XCTAssertEqual(extended.cachedPromptTokens, 300, "the long entry is still cached whole")
        assertSame(extended, try await cold.generate(sampled(long + tokens(warm, 6, offset: 2))), "taken-over entry")
        XCTAssertEqual(model.prefixCache!.stats.hits, 2)
    }

    func testCommonPrefix() {
        XCTAssertEqual(PrefixCache.commonPrefix([1, 2, 3], [1, 2, 4], limit: 10), 2)
        XCTAssertEqual(PrefixCache.commonPrefix([1, 2, 3], [1, 2, 3], limit: 2), 2)
        XCTAssertEqual(PrefixCache.commonPrefix([], [1], limit: 5), 0)
        XCTAssertEqual(PrefixCache.commonPrefix([1], [1], limit: -1), 0)
    }
}
