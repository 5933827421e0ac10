// `score` with audio: the log-likelihood of a transcript given speech. The clip's one 30 s window
// is encoded, the decoder is teacher-forced on
//     <|startoftranscript|> <|lang|> <|transcribe|/|translate|> <|notimestamps|> transcript...
// and each transcript token, then <|endoftext|>, gets the log-softmax of the raw logits that
// predict it: Whisper's decoding rules (suppressed tokens) shape what generate picks, not the
// model's distribution, so none applies here. The prompt's tokens are context (no logprob), as a
// text score's first token is. Rows run in chunks on one target sequence; a row's logits are the
// same bits in any chunking (EncoderDecoderModel.swift), so they equal those of generate's
// one-token steps on the same tokens.
//
// A transcript is scored against one window only: without timestamps nothing says which words
// belong to which window, so audio longer than 30 s is refused before any work (the caller names
// the parameter; `checkOneWindow` here says why).
import Audio
import Models
import Sampling

public struct SpeechScoreRequest: Sendable {
    public var samples: [Float]
    /// nil: detected as generate detects it.
    public var language: String?
    public var translate = false
    /// The transcript's text tokens, without the prompt or <|endoftext|> (both are added).
    public var transcript: [Int32]
    public var topLogprobs = 0

    public init(samples: [Float], language: String?, transcript: [Int32]) {
        self.samples = samples
        self.language = language
        self.transcript = transcript
    }
}

public struct SpeechScoreResult: Sendable {
    public var language: String
    /// Whether the language was detected (not given).
    public var detected: Bool
    /// Every token of the decoder sequence: the prompt (not scored), the transcript and
    /// <|endoftext|> (scored).
    public var score: ScoreResult
    public var promptTokens: Int
}

public struct SpeechScorer: Sendable {
    public let transcriber: Transcriber

    public init(model: LoadedModel, scheduler: InferenceScheduler) throws {
        transcriber = try Transcriber(model: model, scheduler: scheduler)
    }

    /// Tokens of Whisper's prompt: <|startoftranscript|> <|lang|> <|task|> <|notimestamps|>.
    public static let promptLength = 4

    /// The longest transcript: the prompt and the transcript fill the decoder's positions
    /// (448 for whisper-base); <|endoftext|> is predicted from the last of them, never fed.
    public var maxTranscriptTokens: Int { decoderPositions - Self.promptLength }

    /// Positions a decoder sequence may hold.
    public var decoderPositions: Int { transcriber.whisper.maxTargetPositions }

    /// Why `sampleCount` samples cannot be scored (nil: they can): no window, or more than one.
    public static func windowProblem(sampleCount: Int) -> String? {
        let windows = WhisperFeatureExtractor.windowCount(sampleCount: sampleCount)
        let seconds = Double(sampleCount) / Double(WhisperFeatureExtractor.sampleRate)
        if windows == 0 {
            return "is shorter than one 10 ms hop (\(WhisperFeatureExtractor.hopLength) samples): there is no speech to score against"
        }
        if windows > 1 {
            return "is \(seconds) s long, \(windows) windows of 30 s: a transcript is scored against one window, and without timestamps "
                + "nothing says which words belong to which window; score each 30 s part with its own transcript"
        }
        return nil
    }

    public func score(_ request: SpeechScoreRequest) async throws -> SpeechScoreResult {
        let model = transcriber.model, speech = transcriber.speech
        if let problem = Self.windowProblem(sampleCount: request.samples.count) {
            throw EngineError.cannotRun(model: model.name, reason: "the audio \(problem)")
        }
        if request.transcript.isEmpty { throw EngineError.emptyPrompt }
        if request.transcript.count > maxTranscriptTokens {
            throw EngineError.contextOverflow(promptTokens: Self.promptLength + request.transcript.count, maxTokens: 0,
                                              contextLength: transcriber.whisper.maxTargetPositions)
        }
        for (i, t) in request.transcript.enumerated() where t < 0 || Int(t) >= speech.tokenizer.vocabularySize || speech.tokenizer.isSpecial(t) {
            throw EngineError.tokenOutOfRange(index: i, token: t, vocabulary: Int(speech.specials.endOfText))
        }
        let states = try await transcriber.encode(request.samples)[0]
        let language: String
        if let given = request.language {
            language = given
        } else {
            language = try await transcriber.detectLanguage(states)
        }
        let prompt = try transcriber.prompt(language: language, translate: request.translate)
        let sequence = prompt + request.transcript + [speech.specials.endOfText]
        let rows = try await logprobs(of: sequence, on: states, firstScored: prompt.count, top: request.topLogprobs)
        var scored = prompt.map { ScoredToken(token: $0, logprob: nil, top: []) }
        var sum = 0.0
        for (token, row) in zip(sequence[prompt.count...], rows) {
            sum += Double(row.logprob)
            scored.append(ScoredToken(token: token, logprob: row.logprob, top: row.top))
        }
        let mean = sum / Double(rows.count)
        let result = ScoreResult(tokens: scored, sum: sum, count: rows.count, mean: mean, perplexity: ReproMath.exp(-mean))
        return SpeechScoreResult(language: language, detected: request.language == nil, score: result, promptTokens: prompt.count)
    }

    /// The log-softmax at each of `sequence[firstScored...]` given the tokens before it: every
    /// token but the last is fed, in chunks of Scorer.chunk rows, and row i's raw logits score
    /// token i + 1.
    func logprobs(of sequence: [Int32], on states: EncoderStates, firstScored: Int,
                  top: Int) async throws -> [(logprob: Float, top: [TokenLogprob])] {
        let whisper = transcriber.whisper, scheduler = transcriber.scheduler
        let vocabulary = whisper.targetVocabulary
        let target = try await scheduler.exclusive { pool in try whisper.startSequence(on: states, pool: pool) }
        let inputs = Array(sequence.dropLast())
        var out: [(logprob: Float, top: [TokenLogprob])] = []
        var start = 0
        while start < inputs.count {
            try Task.checkCancellation()
            let end = min(inputs.count, start + Scorer.chunk)
            let wanted = end > firstScored - 1
            let chunk = Array(inputs[start..<end])
            let logits = try await scheduler.exclusive { pool in
                try whisper.step([TargetStep(sequence: target, tokens: chunk, logits: wanted ? .all : .none)], pool: pool)[0]
            }
            if wanted {
                logits.withUnsafeBufferPointer { all in
                    for row in start..<end where row + 1 >= firstScored {
                        let z = UnsafeBufferPointer(rebasing: all[((row - start) * vocabulary)..<((row - start + 1) * vocabulary)])
                        let normalizer = LogSoftmax(z)
                        out.append((normalizer.logprob(ofLogit: z[Int(sequence[row + 1])]), normalizer.top(top, of: z)))
                    }
                }
            }
            start = end
        }
        return out
    }
}
