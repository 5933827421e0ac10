// `tokenize` and `detokenize`.
import ReproJSON

/// `tokenize {model?, text, addSpecial?, parseSpecial?}`.
public struct TokenizeParams: Sendable {
    public static let method = "tokenize"
    public let model: String?
    /// Seconds the model stays loaded once idle (KeepAlive.swift).
    public let keepAlive: Double?
    public let text: String
    /// Add BOS/EOS as the model file says (default true, as the model would see a prompt).
    public let addSpecial: Bool
    /// Recognise special-token strings such as `<|im_start|>` in the text (default false, so
    /// user text can never smuggle in control tokens).
    public let parseSpecial: Bool

    public init(_ params: JSONValue?) throws {
        var r = try JSONObjectReader(params, path: "params")
        model = try r.optionalModelName("model")
        keepAlive = try KeepAlive.read(&r, path: "params")
        text = try r.string("text")
        addSpecial = try r.optionalBool("addSpecial") ?? true
        parseSpecial = try r.optionalBool("parseSpecial") ?? false
        try r.finish()
    }

    /// `pieces` are the tokens' bytes as text; a token that is only part of a UTF-8 character
    /// shows U+FFFD there, and its exact bytes are in `pieceBytes`.
    public static func result(model: String, tokens: [Int32], pieces: [[UInt8]]) -> JSONValue {
        [
            "model": .string(model),
            "tokens": JSONValue(ints: tokens),
            "pieces": .array(pieces.map { .string(String(decoding: $0, as: UTF8.self)) }),
            "pieceBytes": .array(pieces.map { .array($0.map { .int(Int64($0)) }) }),
        ]
    }
}

/// `detokenize {model?, tokens, skipSpecial?}`.
public struct DetokenizeParams: Sendable {
    public static let method = "detokenize"
    public static let maxTokens = 1 << 22
    public let model: String?
    /// Seconds the model stays loaded once idle (KeepAlive.swift).
    public let keepAlive: Double?
    public let tokens: [Int32]
    public let skipSpecial: Bool

    public init(_ params: JSONValue?) throws {
        var r = try JSONObjectReader(params, path: "params")
        model = try r.optionalModelName("model")
        keepAlive = try KeepAlive.read(&r, path: "params")
        guard let ids = try r.optionalIntArray("tokens", in: 0...Int64(Int32.max), maxCount: Self.maxTokens) else {
            throw JSONFieldError(path: "params.tokens", message: "is required")
        }
        tokens = ids.map { Int32($0) }
        skipSpecial = try r.optionalBool("skipSpecial") ?? false
        try r.finish()
    }

    public static func result(model: String, text: String) -> JSONValue {
        ["model": .string(model), "text": .string(text)]
    }
}
