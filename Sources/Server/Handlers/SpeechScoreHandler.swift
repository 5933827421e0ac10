// score with audio: the log-likelihood of a transcript given speech (SpeechScorer). Text is
// tokenized by the model after a space is put before it when it begins with none (Whisper's
// transcripts, generate's text and faster-whisper's, begin with one), so " Please call Stella." and
// "Please call Stella." score the same tokens; `tokens` are the transcript's ids as given. The
// receipt records the audio by the sha256 of its samples, the language used, the task and the
// transcript's ids; its output record adds the decoder's whole sequence (`tokens`), so a replay's
// divergence can name the token it is at. The samples are kept beside the journal before the
// answer goes back.
import Engine
import Receipts
import ReproJSON
import RPCProtocol

enum SpeechScoreHandler {
    static func run(_ p: ScoreParams, _ speech: SpeechInput, _ transcript: ScoreParams.Transcript, model: LoadedModel,
                    scheduler: InferenceScheduler, audio: AudioResolver) async throws -> Answer {
        let scorer = try SpeechScorer(model: model, scheduler: scheduler)
        let translate = speech.task == .translate
        // An unknown language is refused before any work.
        if let language = speech.language { _ = try scorer.transcriber.prompt(language: language, translate: translate) }
        let ids = try tokens(of: transcript, scorer)
        let (samples, sha) = try audio.samples(speech.source)
        if let problem = SpeechScorer.windowProblem(sampleCount: samples.count) {
            throw JSONFieldError(path: "params.audio", message: problem)
        }
        var request = SpeechScoreRequest(samples: samples, language: speech.language, transcript: ids)
        request.translate = translate
        request.topLogprobs = p.topLogprobs
        let result = try await scorer.score(request)
        try audio.keep(samples, sha256: sha)

        let tokenizer = model.tokenizer
        let entries = result.score.tokens.map { t in
            TokenEntry(token: t.token, text: GenerationHandlers.text(t.token, tokenizer), logprob: t.logprob,
                       top: t.logprob == nil || p.topLogprobs == 0 ? nil
                           : t.top.map { ($0.token, GenerationHandlers.text($0.token, tokenizer), $0.logprob) })
        }
        let score = result.score
        guard case .object(var json) = ScoreParams.result(model: model.name, tokens: entries, contextTokens: result.promptTokens,
                                                          count: score.count, sum: score.sum, mean: score.mean,
                                                          perplexity: score.perplexity) else {
            throw RPCError.internalError("a score result did not serialize to an object")
        }
        json["language"] = .string(result.language)
        json["languageDetected"] = .bool(result.detected)
        json["audio"] = ["sha256": .string(sha), "seconds": .double(Double(samples.count) / 16_000)]
        var output = OutputRecord.score(score, topLogprobs: p.topLogprobs)
        output["tokens"] = JSONValue(ints: score.tokens.map(\.token))
        let canonical = p.canonicalRequest(speech: SpeechInput.canonicalFields(audioSHA256: sha, language: result.language, task: speech.task),
                                           transcript: ids)
        return Answer(result: json, method: ScoreParams.method, model: model, request: canonical, seed: nil, output: output)
    }

    /// The transcript's text token ids, each checked at its place in the params.
    static func tokens(of transcript: ScoreParams.Transcript, _ scorer: SpeechScorer) throws -> [Int32] {
        let tokenizer = scorer.transcriber.speech.tokenizer
        let ids: [Int32]
        switch transcript {
        case .text(let text):
            ids = tokenizer.encode(text.hasPrefix(" ") ? text : " " + text, addSpecial: false, parseSpecial: false)
        case .tokens(let given):
            for (i, t) in given.enumerated() {
                if Int(t) >= tokenizer.vocabularySize {
                    throw JSONFieldError(path: "params.tokens[\(i)]", message: "token \(t) is not a text token of the model (its tokenizer has \(tokenizer.vocabularySize) ids)")
                }
                if tokenizer.isSpecial(t) {
                    throw JSONFieldError(path: "params.tokens[\(i)]", message: "token \(t) is a special token (\(tokenizer.tokenText(t) ?? "?")): "
                                         + "a transcript is text tokens; the prompt and <|endoftext|> are added")
                }
            }
            ids = given
        }
        if ids.count > scorer.maxTranscriptTokens {
            throw RPCError(.contextOverflow, "\(transcript.path) gives \(ids.count) tokens; the decoder's \(scorer.decoderPositions) "
                           + "positions hold the prompt's \(SpeechScorer.promptLength) and at most \(scorer.maxTranscriptTokens) of a transcript",
                           data: ["promptTokens": JSONValue(SpeechScorer.promptLength + ids.count), "maxTokens": JSONValue(0),
                                  "contextLength": JSONValue(scorer.decoderPositions)])
        }
        return ids
    }
}
