// Speech to text with an encoder-decoder speech model (Whisper), as faster-whisper 1.2.1 decodes a
// clip: its log-mel features are computed once (Audio module), then window after window of up to
// 30 s is encoded and decoded on its own from the prompt <|startoftranscript|> <|lang|> <|task|>
// (+ <|notimestamps|> without timestamps) until <|endoftext|>, under Whisper's logit rules
// (WhisperLogitRules), with at most the model's target positions per window. Without timestamps the
// windows follow each other every 30 s; with them, the window's tokens are cut into timestamped
// segments and the next window starts where they say (TimestampSegments). The language, when not
// given, is the language token the decoder ranks highest after <|startoftranscript|> on the first
// window (ties to the lower id), as faster-whisper detects it. Greedy (temperature 0) and seeded
// sampling use the same sampler as text generation; the draw index runs on across windows, so each
// draw is a pure function of (seed, token index) as everywhere. Beam search (beams > 1) decodes
// each window by faster-whisper's rule (SpeechBeamSearch). The decoding loop is in
// Transcriber+Decoding.swift.
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
    /// Timestamp tokens decoded, and the transcript cut into timestamped segments.
    public var timestamps = false
    /// A window whose no-speech probability is above this, unless its tokens' average logprob
    /// is above `logprobThreshold`, is taken for silence: decoded, but none of its text is kept
    /// (faster-whisper's no_speech_threshold; 1 never skips).
    public var noSpeechThreshold = 0.6
    /// faster-whisper's log_prob_threshold.
    public static let logprobThreshold = -1.0

    public init(samples: [Float], language: String?, maxTokens: Int, seed: UInt64) {
        self.samples = samples
        self.language = language
        self.maxTokens = maxTokens
        self.seed = seed
    }
}

/// One window's transcript.
public struct TranscribedWindow: Sendable {
    /// The content frame (10 ms) the window starts at.
    public let seek: Int
    /// Start and end of the window's audio in seconds.
    public let start: Double
    public let end: Double
    /// The generated tokens (an <|endoftext|> included when the window ended with one).
    public var tokens: [Int32]
    public var text: String
    public var finishReason: FinishReason
    /// The probability of <|nospeech|> after <|startoftranscript|> (nil: the model has no such token).
    public var noSpeechProbability: Double? = nil
    /// The log-probabilities of the generated tokens summed, over their count plus one (as
    /// faster-whisper averages them: the <|endoftext|>'s is in the sum, not in the count).
    public var averageLogprob = 0.0
    /// Taken for silence: no text kept (TranscriptionRequest.noSpeechThreshold).
    public var skipped = false
}

public struct TranscriptionResult: Sendable {
    public var language: String
    /// Whether the language was detected (not given).
    public var detected: Bool
    public var windows: [TranscribedWindow]
    /// The timestamped segments, when asked for.
    public var segments: [TimestampSegment]?
    /// Per generated token of every window, when asked for.
    public var logprobs: [TokenChoice]?
    public var encodeSeconds = 0.0
    public var decodeSeconds = 0.0

    public var tokens: [Int32] { windows.flatMap(\.tokens) }
    /// With timestamps, the segments' text (a window's unfinished last segment is heard again in the next window).
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

    public var whisper: WhisperModel { speech.whisper }

    /// The encoder inputs of `samples` (30 s windows of log-mel features).
    public static func windows(of samples: [Float]) throws -> [[Float]] {
        try WhisperFeatureExtractor().windows(samples)
    }

    /// Encodes every window of `samples` in one pass of the scheduler.
    public func encode(_ samples: [Float]) async throws -> [EncoderStates] {
        let windows = try Self.windows(of: samples)
        guard !windows.isEmpty else { throw shorterThanAFrame }
        return try await encode(windows: windows)
    }

    /// Encodes windows of log-mel features in one pass of the scheduler.
    func encode(windows: [[Float]]) async throws -> [EncoderStates] {
        let whisper = self.whisper
        return try await scheduler.exclusive { pool in try whisper.encode(windows, pool: pool) }
    }

    var shorterThanAFrame: EngineError {
        .cannotRun(model: model.name, reason: "the audio is shorter than one 10 ms frame")
    }

    /// Starts a window's sequence on `states` and runs the prompt: the logits after its last token,
    /// and Whisper's no-speech probability (the softmax of <|nospeech|> after
    /// <|startoftranscript|>, the prompt's first token, as the raw logits give it).
    func startWindow(_ states: EncoderStates, prompt: [Int32]) async throws -> (TargetSequence, [Float], Double?) {
        let (sequence, rows) = try await start(states, prompt: prompt, logits: .all)
        let vocabulary = whisper.targetVocabulary
        let last = Array(rows[(rows.count - vocabulary)...])
        guard let noSpeech = speech.specials.noSpeech else { return (sequence, last, nil) }
        let probability = Array(rows[0..<vocabulary]).withUnsafeBufferPointer { z in
            ReproMath.exp(Double(LogSoftmax(z).logprob(ofLogit: z[Int(noSpeech)])))
        }
        return (sequence, last, probability)
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

    /// Runs one token on each sequence, all in one batch (with other requests' steps on this
    /// model), and returns each one's logits.
    func step(_ items: [(sequence: TargetSequence, token: Int32)]) async throws -> [[Float]] {
        try await scheduler.step(whisper, items.map { TargetStep(sequence: $0.sequence, tokens: [$0.token], logits: .last) })
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
    public func prompt(language: String, translate: Bool, timestamps: Bool = false) throws -> [Int32] {
        let s = speech.specials
        guard let lang = s.languages[language] else {
            throw EngineError.unknownLanguage(language, known: s.languages.keys.sorted())
        }
        return [s.startOfTranscript, lang, translate ? s.translate : s.transcribe] + (timestamps ? [] : [s.noTimestamps])
    }

    /// Whisper's logit rules for this model, with or without timestamps.
    func logitRules(timestamps: Bool) -> WhisperLogitRules {
        let c = whisper.config, s = speech.specials
        let first = s.noTimestamps + 1
        return WhisperLogitRules(
            suppress: c.suppressIDs, suppressBegin: c.suppressIDsBegin,
            timestamps: timestamps ? .init(endOfText: s.endOfText, noTimestamps: s.noTimestamps, first: first,
                                           last: Int32(c.vocabulary - 1),
                                           latestInitial: first + WhisperLogitRules.maxInitialTimestampIndex) : nil)
    }

    /// The text of `tokens`: their bytes decoded whole (a character may span tokens); special
    /// tokens and timestamps contribute none.
    func text(of tokens: [Int32]) -> String {
        let tokenizer = speech.tokenizer
        var text = TextAssembler(stops: [])
        for token in tokens where !tokenizer.isSpecial(token) { _ = text.append(tokenizer.piece(token) ?? []) }
        return text.text
    }
}
