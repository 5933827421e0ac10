// `score`: the log-likelihood of a text (or of a continuation given a context).
import ReproJSON

/// `score {model?, text | {context, continuation} | tokens, scoreFrom?, topLogprobs?, addSpecial?, parseSpecial?}`.
public struct ScoreParams: Sendable {
    public static let method = "score"

    public enum Input: Sendable, Equatable {
        case whole(PromptInput)
        /// The context is tokenized with the special tokens (BOS) the model adds, the
        /// continuation without, and the two are joined; only the continuation is scored.
        case continuation(context: String, continuation: String, addSpecial: Bool, parseSpecial: Bool)
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
        if r.contains("context") || r.contains("continuation") {
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
        if case .whole(.tokens) = input {
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

    /// The canonical effective request a receipt records (valid `score` params).
    public func canonicalRequest(tokens: [Int32], scoreFrom: Int) -> JSONValue {
        ["tokens": JSONValue(ints: tokens), "scoreFrom": JSONValue(scoreFrom), "topLogprobs": JSONValue(topLogprobs)]
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
