// Speech to text with an encoder-decoder speech model (Whisper), as faster-whisper decodes without
// timestamps: the clip's log-mel features cut into consecutive 30 s windows (Audio module), every
// window encoded (together, in one pass of the scheduler), then each window decoded on its own
// from the prompt <|startoftranscript|> <|lang|> <|task|> <|notimestamps|> until <|endoftext|>.
// Whisper's rules: the config's suppress_ids never chosen, suppress_ids_begin not as the first
// token, at most the model's target positions per window. The language, when not given, is the
// language token the decoder ranks highest after <|startoftranscript|> on the first window (ties
// to the lower id), as faster-whisper detects it. Greedy (temperature 0) and seeded sampling use
// the same sampler as text generation; the draw index runs on across windows, so each draw is a
// pure function of (seed, token index) as everywhere. Beam search (beams > 1) decodes each window
// by faster-whisper's rule (SpeechBeamSearch).
import Audio
import Models
import Sampling
import Tokenizers

/// One transcription, every parameter resolved.
public struct TranscriptionRequest: Sendable {
    public var samples: [Float]
    /// nil: detected.
    public var language: String?
    public var translate = false
    /// Most tokens generated per window (the window's positions bound it too).
    public var maxTokens: Int
    public var sampling = SamplingParameters()
    public var seed: UInt64
    public var logprobs = false
    public var topLogprobs = 0
    /// More than 1: beam search (SpeechBeamSearch), deterministic, so `sampling` does not apply.
    public var beams = 1
    public var lengthPenalty = 1.0

    public init(samples: [Float], language: String?, maxTokens: Int, seed: UInt64) {
        self.samples = samples
        self.language = language
        self.maxTokens = maxTokens
        self.seed = seed
    }
}

/// One 30 s window's transcript.
public struct TranscribedWindow: Sendable {
    /// Start and end of the window in seconds.
    public let start: Double
    public let end: Double
    /// The generated tokens (an <|endoftext|> included when the window ended with one).
    public var tokens: [Int32]
    public var text: String
    public var finishReason: FinishReason
}

public struct TranscriptionResult: Sendable {
    public var language: String
    /// Whether the language was detected (not given).
    public var detected: Bool
    public var windows: [TranscribedWindow]
    /// Per generated token of every window, when asked for.
    public var logprobs: [TokenChoice]?
    public var encodeSeconds = 0.0
    public var decodeSeconds = 0.0

    public var tokens: [Int32] { windows.flatMap(\.tokens) }
    public var text: String { windows.map(\.text).joined() }
    /// `cancelled` if any window was, else `length` if any was cut, else `stop`.
    public var finishReason: FinishReason {
        if windows.contains(where: { $0.finishReason == .cancelled }) { return .cancelled }
        return windows.contains(where: { $0.finishReason == .length }) ? .length : .stop
    }
}

/// Runs speech requests on a loaded speech model.
public struct Transcriber: Sendable {
    public let model: LoadedModel
    public let speech: SpeechModel
    public let scheduler: InferenceScheduler

    public init(model: LoadedModel, scheduler: InferenceScheduler) throws {
        guard let speech = model.speech else {
            throw EngineError.cannotRun(model: model.name, reason: "it is not a speech model: audio needs one (such as whisper-base)")
        }
        self.model = model
        self.speech = speech
        self.scheduler = scheduler
    }

    var whisper: WhisperModel { speech.whisper }

    /// The encoder inputs of `samples` (30 s windows of log-mel features).
    public static func windows(of samples: [Float]) throws -> [[Float]] {
        try WhisperFeatureExtractor().windows(samples)
    }

    /// Encodes every window of `samples` in one pass of the scheduler.
    public func encode(_ samples: [Float]) async throws -> [EncoderStates] {
        let windows = try Self.windows(of: samples)
        guard !windows.isEmpty else { throw EngineError.cannotRun(model: model.name, reason: "the audio is shorter than one 10 ms frame") }
        let whisper = self.whisper
        return try await scheduler.exclusive { pool in try whisper.encode(windows, pool: pool) }
    }

    /// Starts a sequence on `states` and runs `tokens`, returning the requested logits.
    func start(_ states: EncoderStates, prompt: [Int32], logits: LogitRows) async throws -> (TargetSequence, [Float]) {
        let whisper = self.whisper
        return try await scheduler.exclusive { pool in
            let sequence = try whisper.startSequence(on: states, pool: pool)
            let out = try whisper.step([TargetStep(sequence: sequence, tokens: prompt, logits: logits)], pool: pool)[0]
            return (sequence, out)
        }
    }

    /// Runs one token on each sequence, all in one batch, and returns each one's logits.
    func step(_ items: [(sequence: TargetSequence, token: Int32)]) async throws -> [[Float]] {
        let whisper = self.whisper
        return try await scheduler.exclusive { pool in
            try whisper.step(items.map { TargetStep(sequence: $0.sequence, tokens: [$0.token], logits: .last) }, pool: pool)
        }
    }

    /// The language token ranked highest after <|startoftranscript|> (ties to the lower id).
    func detectLanguage(_ states: EncoderStates) async throws -> String {
        let (_, logits) = try await start(states, prompt: [speech.specials.startOfTranscript], logits: .last)
        var best: (code: String, token: Int32, logit: Float)?
        for (code, token) in speech.specials.languages {
            let z = logits[Int(token)]
            if let b = best, !(z > b.logit || (z == b.logit && token < b.token)) { continue }
            best = (code, token, z)
        }
        guard let best else { throw EngineError.cannotRun(model: model.name, reason: "its config.json lists no languages") }
        return best.code
    }

    /// The decoder prompt of every window.
    public func prompt(language: String, translate: Bool) throws -> [Int32] {
        let s = speech.specials
        guard let lang = s.languages[language] else {
            throw EngineError.unknownLanguage(language, known: s.languages.keys.sorted())
        }
        return [s.startOfTranscript, lang, translate ? s.translate : s.transcribe, s.noTimestamps]
    }

    /// Whisper's suppression: `suppress_ids` always, `suppress_ids_begin` at a window's first token.
    func suppress(_ logits: inout [Float], first: Bool) {
        let c = whisper.config
        for t in c.suppressIDs where Int(t) < logits.count { logits[Int(t)] = -.infinity }
        if first { for t in c.suppressIDsBegin where Int(t) < logits.count { logits[Int(t)] = -.infinity } }
    }

    public func transcribe(_ request: TranscriptionRequest,
                           onDelta: @escaping @Sendable (GenerationDelta) -> Void = { _ in }) async throws -> TranscriptionResult {
        var clock = Stopwatch()
        let states = try await encode(request.samples)
        let encodeSeconds = clock.lap()
        let language: String
        if let given = request.language {
            language = given
        } else {
            language = try await detectLanguage(states[0])
        }
        let prompt = try prompt(language: language, translate: request.translate)
        var result = TranscriptionResult(language: language, detected: request.language == nil, windows: [],
                                         logprobs: request.logprobs ? [] : nil)
        result.encodeSeconds = encodeSeconds
        let sampler = TokenSampler(parameters: request.sampling, seed: request.seed)
        let tokenizer = speech.tokenizer, endOfText = speech.specials.endOfText
        let perWindow = min(request.maxTokens, whisper.maxTargetPositions - prompt.count)
        let frameSeconds = Double(WhisperFeatureExtractor.hopLength) / Double(WhisperFeatureExtractor.sampleRate)
        let totalSeconds = Double(request.samples.count) / Double(WhisperFeatureExtractor.sampleRate)
        var draw: UInt64 = 0
        for (w, window) in states.enumerated() {
            let windowStart = Double(w * WhisperFeatureExtractor.windowFrames) * frameSeconds
            var out = TranscribedWindow(start: windowStart, end: min(totalSeconds, windowStart + Double(WhisperFeatureExtractor.windowFrames) * frameSeconds),
                                        tokens: [], text: "", finishReason: .length)
            if Task.isCancelled {
                out.finishReason = .cancelled
                result.windows.append(out)
                break
            }
            if request.beams > 1 {
                try await decodeBeams(window, prompt: prompt, steps: perWindow, request, into: &out, &result, onDelta: onDelta)
                result.windows.append(out)
                if out.finishReason == .cancelled { break }
                continue
            }
            let (sequence, first) = try await start(window, prompt: prompt, logits: .last)
            var logits = first
            // Streams text only once its UTF-8 is whole (a character may span tokens).
            var text = TextAssembler(stops: [])
            for step in 0..<perWindow {
                suppress(&logits, first: step == 0)
                guard let token = sampler.choose(logits: logits, history: out.tokens, step: draw) else {
                    throw EngineError.nonFiniteLogits(model: model.name)
                }
                draw += 1
                out.tokens.append(token)
                var choice: [TokenChoice] = []
                if request.logprobs {
                    choice = [Generator.choice(token, logits, top: request.topLogprobs)]
                    result.logprobs?.append(contentsOf: choice)
                }
                if token == endOfText {
                    out.finishReason = .stop
                    onDelta(GenerationDelta(text: text.takeDelta(final: true), tokens: [token], logprobs: choice))
                    break
                }
                _ = text.append(tokenizer.isSpecial(token) ? [] : (tokenizer.piece(token) ?? []))
                onDelta(GenerationDelta(text: text.takeDelta(final: false), tokens: [token], logprobs: choice))
                if step == perWindow - 1 { break }
                if Task.isCancelled {
                    out.finishReason = .cancelled
                    break
                }
                logits = try await self.step([(sequence, token)])[0]
            }
            let rest = text.takeDelta(final: true)
            if !rest.isEmpty { onDelta(GenerationDelta(text: rest, tokens: [], logprobs: [])) }
            out.text = text.text
            result.windows.append(out)
            if out.finishReason == .cancelled { break }
        }
        result.decodeSeconds = clock.lap()
        return result
    }

    /// One window by beam search; its text is streamed once, at the end, since the leading beam
    /// may change until then.
    private func decodeBeams(_ window: EncoderStates, prompt: [Int32], steps: Int, _ request: TranscriptionRequest,
                             into out: inout TranscribedWindow, _ result: inout TranscriptionResult,
                             onDelta: @Sendable (GenerationDelta) -> Void) async throws {
        let search = SpeechBeamSearch(transcriber: self, width: request.beams, lengthPenalty: request.lengthPenalty,
                                      topLogprobs: request.topLogprobs)
        let found = try await search.decode(window, prompt: prompt, steps: steps)
        let tokenizer = speech.tokenizer
        var text = TextAssembler(stops: [])
        for token in found.tokens where !tokenizer.isSpecial(token) { _ = text.append(tokenizer.piece(token) ?? []) }
        out.text = text.text
        out.tokens = found.tokens
        out.finishReason = found.finishReason
        if request.logprobs { result.logprobs?.append(contentsOf: found.choices) }
        onDelta(GenerationDelta(text: text.takeDelta(final: true), tokens: found.tokens,
                                logprobs: request.logprobs ? found.choices : []))
    }
}
