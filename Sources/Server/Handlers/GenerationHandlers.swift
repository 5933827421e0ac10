// generate, score: the params become an engine request (prompt tokenized, defaults applied, seed
// resolved), the engine runs it through the daemon's scheduler, and the result goes back as JSON.
import Engine
import Grammar
import Receipts
import ReproJSON
import RPCProtocol
import Sampling
import Tokenizers

public enum GenerationHandlers {
    @Sendable static func generate(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        let p = try GenerateParams(params)
        let stream = p.stream && !ctx.isNotification
        // The session's seed index was taken when the request arrived (ServerConnection).
        let seed = p.seed.map(SeedUse.request) ?? ctx.sessionSeed ?? SeedUse.drawEntropy()
        let lease = try await ctx.daemon.registry.acquire(p.model, keepAlive: p.keepAlive) { ctx.progress($0) }
        defer { lease.release() }
        let answer = try await run(p, model: lease.model, scheduler: ctx.daemon.scheduler, seed: seed, lease: lease,
                                   audio: AudioResolver(store: ctx.daemon.audioStore)) { delta in
            guard stream else { return }
            ctx.notify(StreamNotification(requestID: ctx.id, text: delta.text, tokens: delta.tokens, logprobs: delta.logprobs).json)
        }
        let usage = answer.result["usage"], timings = answer.result["timings"]
        ctx.daemon.stats.tokens(prompt: Int(usage?["promptTokens"]?.int64Value ?? 0),
                                cached: Int(timings?["cachedPromptTokens"]?.int64Value ?? 0),
                                completion: Int(usage?["completionTokens"]?.int64Value ?? 0))
        return try await ctx.daemon.seal(answer)
    }

    /// A delta of a streaming generation, with its tokens' texts resolved.
    public struct StreamedText: Sendable {
        public let text: String
        public let tokens: [Int32]
        public let logprobs: [TokenEntry]?
    }

    /// `reprolm generate`: the daemon's validation, defaults and result, with an unjournaled receipt.
    public static func run(_ p: GenerateParams, registry: ModelRegistry, scheduler: InferenceScheduler,
                           onDelta: @escaping @Sendable (StreamedText) -> Void) async throws -> JSONValue {
        let seed = p.seed.map(SeedUse.request) ?? SeedUse.drawEntropy()
        return try await run(p, model: try registry.resolve(p.model), scheduler: scheduler, seed: seed, onDelta: onDelta)
            .unjournaledJSON()
    }

    /// Runs `generate` on `model` with `seed` (p.seed, if any, is already in `seed`); with a
    /// lease, its KV cache is first reserved under the memory budget.
    static func run(_ p: GenerateParams, model: LoadedModel, scheduler: InferenceScheduler, seed: SeedUse,
                    lease: ModelLease? = nil, audio: AudioResolver = .none,
                    onDelta: @escaping @Sendable (StreamedText) -> Void) async throws -> Answer {
        if case .speech(let speech) = p.prompt {
            return try await SpeechHandlers.generate(p, speech, model: model, scheduler: scheduler, seed: seed, audio: audio,
                                                     lease: lease, onDelta: onDelta)
        }
        let generator = try Generator(model: model, scheduler: scheduler)
        let toolFormat = try p.tools.flatMap { try ToolCalls.format(for: $0, model: model) }
        let grammar = try p.constraint.map(ConstraintCompiler.grammar)
            ?? p.tools.flatMap { try ConstraintCompiler.toolCallGrammar($0, format: toolFormat) }
        let prompt = try tokens(of: p.prompt, model, tools: p.tools?.shown)
        // The engine checks the vocabulary and the context before any work; an empty prompt is
        // refused here, where the parameter's path is known.
        if prompt.isEmpty { throw JSONFieldError(path: p.prompt.path(textKey: "prompt"), message: "gives no tokens: there is nothing to condition on") }
        try generator.checkFits(promptTokens: prompt.count, maxTokens: p.maxTokens)
        // Beam search holds a sequence per beam besides the prompt's.
        try await lease?.reserveKV(positions: prompt.count + p.maxTokens, sequences: p.beams > 1 ? p.beams + 1 : 1)

        var request = GenerationRequest(prompt: prompt, maxTokens: p.maxTokens, seed: seed.value)
        request.stop = p.stop
        request.sampling = sampling(p)
        request.beams = p.beams
        request.lengthPenalty = Float(p.lengthPenalty)
        request.logprobs = p.logprobs
        request.topLogprobs = p.topLogprobs
        request.grammar = grammar

        let tokenizer = model.tokenizer
        let wantLogprobs = p.logprobs, top = p.topLogprobs
        let result = try await generator.generate(request) { delta in
            onDelta(StreamedText(text: delta.text, tokens: delta.tokens,
                                 logprobs: wantLogprobs ? delta.logprobs.map { entry($0, tokenizer, top: top) } : nil))
        }
        var json = GenerateResult(model: model.name, text: result.text, tokens: result.tokens,
                                  finishReason: result.finishReason.rawValue, stopSequence: result.stopSequence,
                                  logprobs: result.logprobs?.map { entry($0, tokenizer, top: top) }, promptTokens: result.promptTokens,
                                  prefillSeconds: result.timings.prefillSeconds, decodeSeconds: result.timings.decodeSeconds,
                                  seed: seed.value, seedSource: seed.source)
        json.cachedPromptTokens = result.cachedPromptTokens
        if let toolFormat { json.toolCalls = ToolCalls.parse(result.text, format: toolFormat) }
        if case let .session(_, commitment, index) = seed {
            json.seedCommitment = commitment
            json.seedIndex = index
        }
        return Answer(result: json.json.objectValue!, method: GenerateParams.method, model: model,
                      request: p.canonicalRequest(tokens: prompt, seed: seed.value), seed: seed,
                      output: OutputRecord.generation(finishReason: result.finishReason.rawValue, tokens: result.tokens, logprobs: result.logprobs, topLogprobs: p.topLogprobs))
    }

    @Sendable static func score(_ ctx: RequestContext, _ params: JSONValue?) async throws -> JSONValue {
        let p = try ScoreParams(params)
        let lease = try await ctx.daemon.registry.acquire(p.model, keepAlive: p.keepAlive) { ctx.progress($0) }
        defer { lease.release() }
        let answer = try await run(p, model: lease.model, scheduler: ctx.daemon.scheduler, lease: lease,
                                   audio: AudioResolver(store: ctx.daemon.audioStore))
        return try await ctx.daemon.seal(answer)
    }

    /// `reprolm score`, with an unjournaled receipt.
    public static func run(_ p: ScoreParams, registry: ModelRegistry, scheduler: InferenceScheduler) async throws -> JSONValue {
        try await run(p, model: try registry.resolve(p.model), scheduler: scheduler).unjournaledJSON()
    }

    static func run(_ p: ScoreParams, model: LoadedModel, scheduler: InferenceScheduler, lease: ModelLease? = nil,
                    audio: AudioResolver = .none) async throws -> Answer {
        if case let .speech(speech, transcript) = p.input {
            return try await SpeechScoreHandler.run(p, speech, transcript, model: model, scheduler: scheduler, audio: audio)
        }
        if model.speech != nil {
            throw JSONFieldError(path: "params.audio", message: "is required: \(model.name) is a speech model, which scores a transcript (text) given audio")
        }
        let scorer = Scorer(generator: try Generator(model: model, scheduler: scheduler))
        var request: ScoreRequest
        switch p.input {
        case let .whole(input):
            request = ScoreRequest(tokens: try tokens(of: input, model))
            if request.tokens.isEmpty { throw JSONFieldError(path: input.path(textKey: "text"), message: "gives no tokens: there is nothing to score") }
            if let from = p.scoreFrom {
                // Equal to the count scores nothing (as a one-token text does), which its receipt records.
                guard from <= request.tokens.count else {
                    throw JSONFieldError(path: "params.scoreFrom", message: "must be at most the number of tokens (\(request.tokens.count))")
                }
                request.firstScored = from
            }
        case let .continuation(context, continuation, addSpecial, parseSpecial):
            let head = model.tokenizer.encode(context, addSpecial: addSpecial, parseSpecial: parseSpecial)
            let tail = model.tokenizer.encode(continuation, addSpecial: false, parseSpecial: parseSpecial)
            request = ScoreRequest(tokens: head + tail, firstScored: max(1, head.count))
        case .speech:
            throw RPCError.internalError("score with audio is SpeechScoreHandler's, dispatched above")
        }
        request.topLogprobs = p.topLogprobs
        try scorer.checkFits(request)
        try await lease?.reserveKV(positions: request.tokens.count)
        let result = try await scorer.score(request)
        let tokenizer = model.tokenizer
        let entries = result.tokens.map { t in
            TokenEntry(token: t.token, text: text(t.token, tokenizer), logprob: t.logprob,
                       top: t.logprob == nil || p.topLogprobs == 0 ? nil : t.top.map { ($0.token, text($0.token, tokenizer), $0.logprob) })
        }
        let json = ScoreParams.result(model: model.name, tokens: entries, contextTokens: request.firstScored,
                                      count: result.count, sum: result.sum, mean: result.mean, perplexity: result.perplexity)
        return Answer(result: json.objectValue!, method: ScoreParams.method, model: model,
                      request: p.canonicalRequest(tokens: request.tokens, scoreFrom: request.firstScored), seed: nil,
                      output: OutputRecord.score(result, topLogprobs: p.topLogprobs))
    }

    /// The prompt's tokens; `tools` are shown to the chat template of `messages` (a text or token
    /// prompt is final as it is).
    static func tokens(of input: PromptInput, _ model: LoadedModel, tools: [ToolDefinition]? = nil) throws -> [Int32] {
        switch input {
        case let .text(text, addSpecial, parseSpecial):
            return model.tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
        case let .tokens(ids):
            return ids
        case let .messages(turns, addGenerationPrompt):
            // As Hugging Face's apply_chat_template: the template writes every special token
            // itself (BOS included), so none is added, and its markers are parsed as specials.
            let prompt = try ChatRendering.render(turns, tools: tools, addGenerationPrompt: addGenerationPrompt, model: model)
            return model.tokenizer.encode(prompt, addSpecial: false, parseSpecial: true)
        case let .infill(prefix, suffix, addSpecial, parseSpecial):
            return try InfillRendering.tokens(prefix: prefix, suffix: suffix, addSpecial: addSpecial,
                                              parseSpecial: parseSpecial, model: model)
        case .speech:
            throw EngineError.cannotRun(model: model.name, reason: "it is not a speech model: audio needs one (such as whisper-base)")
        }
    }

    static func sampling(_ p: GenerateParams) -> SamplingParameters {
        var s = SamplingParameters()
        s.temperature = Float(p.temperature)
        s.topK = p.topK
        s.topP = Float(p.topP)
        s.minP = Float(p.minP)
        s.repeatPenalty = Float(p.repeatPenalty)
        s.presencePenalty = Float(p.presencePenalty)
        s.frequencyPenalty = Float(p.frequencyPenalty)
        s.penaltyLastN = p.penaltyLastN
        return s
    }

    static func text(_ token: Int32, _ tokenizer: any TextTokenizer) -> String {
        String(decoding: tokenizer.piece(token) ?? [], as: UTF8.self)
    }

    /// `top` is left out when no alternatives were asked for (as in `score`).
    static func entry(_ c: TokenChoice, _ tokenizer: any TextTokenizer, top: Int) -> TokenEntry {
        TokenEntry(token: c.token, text: text(c.token, tokenizer), logprob: c.logprob,
                   top: top == 0 ? nil : c.top.map { ($0.token, text($0.token, tokenizer), $0.logprob) })
    }
}
