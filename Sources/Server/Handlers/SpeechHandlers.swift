// generate with audio: the speech model transcribes (or translates) the clip; the receipt records
// the audio by the sha256 of its samples, the language used and the task, and the samples are kept
// beside the journal before the answer goes back.
import Engine
import Receipts
import ReproJSON
import RPCProtocol
import Sampling

enum SpeechHandlers {
    static func generate(_ p: GenerateParams, _ speech: SpeechInput, model: LoadedModel, scheduler: InferenceScheduler,
                         seed: SeedUse, audio: AudioResolver, lease: ModelLease? = nil,
                         onDelta: @escaping @Sendable (GenerationHandlers.StreamedText) -> Void) async throws -> Answer {
        let transcriber = try Transcriber(model: model, scheduler: scheduler)
        if !p.stop.isEmpty { throw JSONFieldError(path: "params.stop", message: "does not apply to audio") }
        let (samples, sha) = try audio.samples(speech.source)
        // An unknown language is refused before any work.
        if let language = speech.language { _ = try transcriber.prompt(language: language, translate: speech.task == .translate) }
        // A beam step holds the live beams and the forks that replace them.
        let sequences = p.beams > 1 ? 2 * p.beams : 1
        try await lease?.reserveWorkingMemory(transcriber.whisper.workingBytes(sequences: sequences),
                                              for: "a transcription (\(sequences) sequence\(sequences == 1 ? "" : "s"))")
        var request = TranscriptionRequest(samples: samples, language: speech.language, maxTokens: p.maxTokens, seed: seed.value)
        request.translate = speech.task == .translate
        request.sampling = GenerationHandlers.sampling(p)
        request.logprobs = p.logprobs
        request.topLogprobs = p.topLogprobs
        request.beams = p.beams
        request.lengthPenalty = p.lengthPenalty
        request.timestamps = speech.timestamps
        request.noSpeechThreshold = speech.noSpeechThreshold
        let tokenizer = model.tokenizer, wantLogprobs = p.logprobs, top = p.topLogprobs
        let result = try await transcriber.transcribe(request) { delta in
            onDelta(.init(text: delta.text, tokens: delta.tokens,
                          logprobs: wantLogprobs ? delta.logprobs.map { GenerationHandlers.entry($0, tokenizer, top: top) } : nil))
        }
        try audio.keep(samples, sha256: sha)
        var json = GenerateResult(model: model.name, text: result.text, tokens: result.tokens,
                                  finishReason: result.finishReason.rawValue, stopSequence: nil,
                                  logprobs: result.logprobs?.map { GenerationHandlers.entry($0, tokenizer, top: top) },
                                  promptTokens: (speech.timestamps ? 3 : 4) * result.windows.count,
                                  prefillSeconds: result.encodeSeconds, decodeSeconds: result.decodeSeconds,
                                  seed: seed.value, seedSource: seed.source)
        if case let .session(_, commitment, index) = seed {
            json.seedCommitment = commitment
            json.seedIndex = index
        }
        guard case .object(var o) = json.json else { return try unreachable() }
        o["language"] = .string(result.language)
        o["languageDetected"] = .bool(result.detected)
        o["audio"] = ["sha256": .string(sha), "seconds": .double(Double(samples.count) / 16_000)]
        if let segments = result.segments {
            o["segments"] = .array(segments.map { s in
                ["seek": JSONValue(s.seek), "start": .double(s.start), "end": .double(s.end), "text": .string(s.text),
                 "tokens": JSONValue(ints: s.tokens)]
            })
        } else {
            // Without timestamps a window is a segment, unless it was taken for silence.
            o["segments"] = .array(result.windows.filter { !$0.skipped }.map { w in
                ["seek": JSONValue(w.seek), "start": .double(w.start), "end": .double(w.end), "text": .string(w.text),
                 "tokens": JSONValue(ints: w.tokens), "finishReason": .string(w.finishReason.rawValue)]
            })
        }
        o["windows"] = .array(result.windows.map { w in
            var window: [String: JSONValue] = [
                "seek": JSONValue(w.seek), "start": .double(w.start), "end": .double(w.end),
                "tokens": JSONValue(ints: w.tokens), "finishReason": .string(w.finishReason.rawValue),
                "averageLogprob": .double(w.averageLogprob), "skipped": .bool(w.skipped)]
            if let p = w.noSpeechProbability { window["noSpeechProbability"] = .double(p) }
            return .object(window)
        })
        let canonical = p.canonicalRequest(speech: SpeechInput.canonicalFields(audioSHA256: sha, language: result.language, task: speech.task,
                                                                                     timestamps: speech.timestamps,
                                                                                     noSpeechThreshold: speech.noSpeechThreshold),
                                           seed: seed.value)
        return Answer(result: o, method: GenerateParams.method, model: model, request: canonical, seed: seed,
                      output: OutputRecord.generation(finishReason: result.finishReason.rawValue, tokens: result.tokens,
                                                      logprobs: result.logprobs, topLogprobs: p.topLogprobs))
    }

    private static func unreachable() throws -> Answer {
        throw RPCError.internalError("a generate result did not serialize to an object")
    }
}
