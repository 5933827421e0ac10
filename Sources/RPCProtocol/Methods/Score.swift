// `score`: the log-likelihood of a text (or of a continuation given a context), or on a speech
// model of a transcript given audio.
import ReproJSON

/// `score {model?, text | {context, continuation} | tokens, scoreFrom?, topLogprobs?, addSpecial?, parseSpecial?}`,
/// or on a speech model `score {model?, audio, text | tokens, language?, task?, topLogprobs?}`.
public struct ScoreParams: Sendable {
    public static let method = "score"

    public enum Input: Sendable, Equatable {
        case whole(PromptInput)
        /// The context is tokenized with the special tokens (BOS) the model adds, the
        /// continuation without, and the two are joined; only the continuation is scored.
        case continuation(context: String, continuation: String, addSpecial: Bool, parseSpecial: Bool)
        /// A transcript of the audio, scored after the decoder's prompt (SpeechInput.swift).
        case speech(SpeechInput, transcript: Transcript)
    }

    /// What a speech model scores: text (tokenized by the model, after a space put before it when
    /// it begins with none, as Whisper's transcripts do), or the transcript's text token ids.
    public enum Transcript: Sendable, Equatable {
        case text(String)
        case tokens([Int32])

        /// Where a problem with the transcript is reported.
        public var path: String {
            if case .tokens = self { return "params.tokens" }
            return "params.text"
        }
    }

    public let model: String?
    /// Seconds the model stays loaded once idle (KeepAlive.swift).
    public let keepAlive: Double?
    public let input: Input
    /// With `tokens`: the index of the first token scored (default 1). A receipt's canonical
    /// request states a context/continuation split this way.
    public let scoreFrom: Int?
    public let topLogprobs: Int

    public init(_ params: JSONValue?) throws {
        var r = try JSONObjectReader(params, path: "params")
        model = try r.optionalModelName("model")
        keepAlive = try KeepAlive.read(&r, path: "params")
        if let speech = try SpeechInput.read(&r, withTask: true) {
            input = .speech(speech, transcript: try Self.readTranscript(&r))
        } else if r.contains("context") || r.contains("continuation") {
            for key in ["text", "tokens"] where r.contains(key) {
                throw JSONFieldError(path: r.fieldPath(key), message: "cannot be given together with context and continuation")
            }
            _ = r.value("text")     // null: absent
            _ = r.value("tokens")
            let context = try r.string("context")
            let continuation = try r.string("continuation")
            if continuation.isEmpty { throw JSONFieldError(path: r.fieldPath("continuation"), message: "must not be empty") }
            input = .continuation(context: context, continuation: continuation,
                                  addSpecial: try r.optionalBool("addSpecial") ?? true,
                                  parseSpecial: try r.optionalBool("parseSpecial") ?? false)
        } else {
            _ = r.value("context")  // null: absent
            _ = r.value("continuation")
            input = .whole(try PromptInput.read(&r, textKey: "text"))
        }
        if case .speech = input {
            scoreFrom = nil  // readTranscript refused it
        } else if case .whole(.tokens) = input {
            scoreFrom = try r.optionalInt("scoreFrom", in: 1...Int64(GenerateParams.maxPromptTokens)).map { Int($0) }
        } else if r.contains("scoreFrom") {
            throw JSONFieldError(path: r.fieldPath("scoreFrom"), message: "applies only to tokens")
        } else {
            _ = r.value("scoreFrom")
            scoreFrom = nil
        }
        topLogprobs = Int(try r.optionalInt("topLogprobs", in: 0...Int64(GenerateParams.maxTopLogprobs)) ?? 0)
        try r.finish()
    }

    /// `text` | `tokens` beside `audio`; a text prompt's switches, a context and scoreFrom do not apply.
    static func readTranscript(_ r: inout JSONObjectReader) throws -> Transcript {
        for key in ["context", "continuation", "addSpecial", "parseSpecial", "scoreFrom"] {
            if r.contains(key) { throw JSONFieldError(path: r.fieldPath(key), message: "cannot be given together with audio") }
            _ = r.value(key)  // null: absent
        }
        let text = try r.optionalString("text")
        let ids = try r.optionalIntArray("tokens", in: 0...Int64(Int32.max), maxCount: GenerateParams.maxPromptTokens)
        switch (text, ids) {
        case let (text?, nil):
            // "" would score only a space the transcript does not have.
            if text.isEmpty { throw JSONFieldError(path: r.fieldPath("text"), message: "must not be empty: there is no transcript to score") }
            return .text(text)
        case let (nil, ids?):
            if ids.isEmpty { throw JSONFieldError(path: r.fieldPath("tokens"), message: "must not be empty: there is no transcript to score") }
            return .tokens(ids.map { Int32($0) })
        case (_?, _?):
            throw JSONFieldError(path: r.fieldPath("tokens"), message: "cannot be given together with text")
        case (nil, nil):
            throw JSONFieldError(path: r.fieldPath("text"), message: "is required with audio (or tokens): the transcript to score")
        }
    }

    /// The canonical effective request a receipt records (valid `score` params).
    public func canonicalRequest(tokens: [Int32], scoreFrom: Int) -> JSONValue {
        ["tokens": JSONValue(ints: tokens), "scoreFrom": JSONValue(scoreFrom), "topLogprobs": JSONValue(topLogprobs)]
    }

    /// The canonical request of a speech `score`: the audio by content, the language used and the
    /// task (SpeechInput.canonicalFields), and the transcript as its text token ids.
    public func canonicalRequest(speech: [String: JSONValue], transcript: [Int32]) -> JSONValue {
        var o = speech
        o["tokens"] = JSONValue(ints: transcript)
        o["topLogprobs"] = JSONValue(topLogprobs)
        return .object(o)
    }

    /// `tokens` lists every token, scored ones with their logprob and unscored ones (the first
    /// token, and a context's tokens) with logprob null.
    public static func result(model: String, tokens: [TokenEntry], contextTokens: Int, count: Int, sum: Double,
                              mean: Double?, perplexity: Double?) -> JSONValue {
        [
            "model": .string(model),
            "tokens": .array(tokens.map(\.json)),
            "contextTokens": JSONValue(contextTokens),
            "scoredTokens": JSONValue(count),
            "sum": .double(sum),
            "mean": mean.map { .double($0) } ?? .null,
            "perplexity": perplexity.map { .double($0) } ?? .null,
        ]
    }
}
