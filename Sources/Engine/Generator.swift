// The decode loop of `generate` for greedy decoding and seeded sampling: prefill the prompt in
// chunks (after the longest prefix of it the model's PrefixCache holds), then one token per step
// until an end-of-generation token, a stop string, maxTokens or cancellation. Every step goes
// through the scheduler, batched with other requests' steps, which never changes its result.
// Beam search is in BeamSearch.swift.
import Dispatch
import Grammar
import Models
import Sampling
import Tokenizers

/// Runs generation requests on a loaded model.
public struct Generator: Sendable {
    public let model: LoadedModel
    public let decoder: DecoderModel
    /// The model's GGUF tokenizer (end-of-generation tokens, streaming pieces).
    public let tokenizer: Tokenizer
    public let scheduler: InferenceScheduler
    /// Prompt tokens per prefill step: long prompts are cut so other requests' decode steps are
    /// not held up for long (chunking never changes a result).
    public static let prefillChunk = 128

    public init(model: LoadedModel, scheduler: InferenceScheduler) throws {
        guard let decoder = model.decoder, let gguf = model.gguf else {
            throw EngineError.cannotRun(model: model.name, reason: model.decoderUnavailable ?? "no decoder")
        }
        self.model = model
        self.decoder = decoder
        self.tokenizer = gguf.tokenizer
        self.scheduler = scheduler
    }

    /// Refuses, before any work, a request whose prompt plus `maxTokens` exceeds the context.
    public func checkFits(promptTokens: Int, maxTokens: Int) throws {
        if promptTokens == 0 { throw EngineError.emptyPrompt }
        let limit = decoder.config.contextLength
        if promptTokens + maxTokens > limit {
            throw EngineError.contextOverflow(promptTokens: promptTokens, maxTokens: maxTokens, contextLength: limit)
        }
    }

    /// Feeds `tokens` to `sequence` in prefill chunks; returns the last token's logits, or nil if
    /// cancelled between chunks.
    func prefill(_ sequence: SequenceState, _ tokens: [Int32]) async throws -> [Float]? {
        var logits: [Float] = []
        var start = 0
        while start < tokens.count {
            if Task.isCancelled { return nil }
            let end = min(tokens.count, start + Self.prefillChunk)
            logits = try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: Array(tokens[start..<end]),
                                                                    logits: end == tokens.count ? .last : .none))
            start = end
        }
        return logits
    }

    /// A sequence for `prompt`: a copy of the longest prefix of it the model's prefix cache holds
    /// (an empty sequence when it holds none), and how many tokens that prefix covers.
    func startSequence(for prompt: [Int32]) -> (sequence: SequenceState, cached: Int) {
        if let hit = model.prefixCache?.sequence(for: prompt) { return (hit.sequence, hit.reused) }
        return (decoder.makeSequence(), 0)
    }

    /// Generates for `request`; `onDelta` receives streamed text as it becomes safe to show.
    public func generate(_ request: GenerationRequest,
                         onDelta: @escaping @Sendable (GenerationDelta) -> Void = { _ in }) async throws -> GenerationResult {
        try checkTokens(request.prompt)
        try checkFits(promptTokens: request.prompt.count, maxTokens: request.maxTokens)
        if request.beams > 1 {
            let result = try await BeamSearch(generator: self, request: request).run()
            if !result.tokens.isEmpty {
                onDelta(GenerationDelta(text: result.text, tokens: result.tokens, logprobs: result.logprobs ?? []))
            }
            return result
        }

        var clock = Stopwatch()
        let (sequence, cached) = startSequence(for: request.prompt)
        // The cache takes the sequence over when this request is done with it, whatever the end.
        defer {
            scheduler.stopsDecoding(sequence)
            model.prefixCache?.offer(sequence)
        }
        var result = GenerationResult(text: "", tokens: [], finishReason: .length, stopSequence: nil,
                                      logprobs: request.logprobs ? [] : nil, promptTokens: request.prompt.count,
                                      timings: GenerationTimings(), cachedPromptTokens: cached)
        guard var logits = try await prefill(sequence, Array(request.prompt[cached...])) else {
            result.finishReason = .cancelled
            result.timings.prefillSeconds = clock.lap()
            return result
        }
        result.timings.prefillSeconds = clock.lap()
        let sampler = TokenSampler(parameters: request.sampling, seed: request.seed)
        var constraint = try request.grammar.map { grammar -> TokenConstraint in
            guard let vocabulary = model.constraintVocabulary else {
                throw EngineError.cannotRun(model: model.name, reason: "it has no GGUF vocabulary to constrain")
            }
            return TokenConstraint(grammar: grammar, vocabulary: vocabulary)
        }
        var text = TextAssembler(stops: request.stop)
        var pendingTokens: [Int32] = [], pendingChoices: [TokenChoice] = []
        let tokenizer = self.tokenizer

        func flush(final: Bool) {
            let delta = text.takeDelta(final: final)
            guard !delta.isEmpty || !pendingTokens.isEmpty else { return }
            onDelta(GenerationDelta(text: delta, tokens: pendingTokens, logprobs: pendingChoices))
            pendingTokens.removeAll()
            pendingChoices.removeAll()
        }

        for step in 0..<request.maxTokens {
            let chosen: Int32?
            if let c = constraint {
                chosen = sampler.choose(logits: logits, history: sequence.tokens, step: UInt64(step), allowed: c.allows, everyAllowed: c.allowedTokens)
                guard chosen != nil else { throw EngineError.constraintDeadEnd(model: model.name, generated: step) }
            } else {
                chosen = sampler.choose(logits: logits, history: sequence.tokens, step: UInt64(step))
            }
            guard let token = chosen else { throw EngineError.nonFiniteLogits(model: model.name) }
            constraint?.accept(token)
            result.tokens.append(token)
            pendingTokens.append(token)
            if request.logprobs {
                let choice = Self.choice(token, logits, top: request.topLogprobs)
                result.logprobs?.append(choice)
                pendingChoices.append(choice)
            }
            if tokenizer.isEndOfGeneration(token) {
                result.finishReason = .stop
                break
            }
            if text.append(tokenizer.piece(token) ?? []) {
                result.finishReason = .stop
                result.stopSequence = text.matchedStop
                break
            }
            flush(final: false)
            if step == request.maxTokens - 1 { break }
            // Within one decode step of a $/cancelRequest.
            if Task.isCancelled {
                result.finishReason = .cancelled
                break
            }
            logits = try await scheduler.forward(decoder, ForwardItem(sequence: sequence, tokens: [token], logits: .last))
        }
        flush(final: true)
        result.text = text.text
        result.timings.decodeSeconds = clock.lap()
        return result
    }

    func checkTokens(_ tokens: [Int32]) throws {
        let vocabulary = decoder.config.vocabulary
        if let i = tokens.firstIndex(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw EngineError.tokenOutOfRange(index: i, token: tokens[i], vocabulary: vocabulary)
        }
    }

    /// The logprob of `token` and the `top` best alternatives under the raw logits.
    static func choice(_ token: Int32, _ logits: [Float], top: Int) -> TokenChoice {
        logits.withUnsafeBufferPointer { z in
            let normalizer = LogSoftmax(z)
            return TokenChoice(token: token, logprob: normalizer.logprob(ofLogit: z[Int(token)]),
                               top: normalizer.top(top, of: z))
        }
    }
}

/// Elapsed wall time between laps.
struct Stopwatch {
    private var last = DispatchTime.now().uptimeNanoseconds

    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}
