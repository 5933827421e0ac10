// `encode`: embeddings of texts (or token ids) from an encoder model, or from a decoder's final
// hidden states; on a speech model, of audio from its encoder's states.
import ReproJSON

/// `encode {model?, input: string | [string] | tokens: [[int]], pooling?, normalize?, truncate?, addSpecial?}`,
/// or on a speech model `encode {model?, audio, pooling?, normalize?}` (one clip per request).
public struct EncodeParams: Sendable {
    public static let method = "encode"
    public static let maxInputs = 1024

    public enum Input: Sendable, Equatable {
        case texts([String], addSpecial: Bool)
        case tokens([[Int32]])
        /// One clip, for a speech model's encoder (SpeechInput.swift).
        case audio(SpeechInput.Source)
    }

    public enum Pooling: String, Sendable, CaseIterable {
        case mean, cls, last, none
    }

    public let model: String?
    /// Seconds the model stays loaded once idle (KeepAlive.swift).
    public let keepAlive: Double?
    public let input: Input
    /// `input` was an array (so problems are reported at `params.input[i]`, not `params.input`).
    public let inputIsList: Bool
    /// nil: the model's default (MiniLM: mean; decoders: mean).
    public let pooling: Pooling?
    /// nil: the model's default (MiniLM: true, from its Normalize module; decoders: true).
    public let normalize: Bool?
    /// Cut inputs longer than the model's limit (and say so in the result) rather than refuse them.
    public let truncate: Bool

    public init(_ params: JSONValue?) throws {
        var r = try JSONObjectReader(params, path: "params")
        model = try r.optionalModelName("model")
        keepAlive = try KeepAlive.read(&r, path: "params")
        if let speech = try SpeechInput.read(&r, withTask: false) {
            // Audio has no tokens to add or cut: a clip is encoded whole, window by window.
            for key in ["input", "tokens", "addSpecial", "truncate"] {
                if r.contains(key) { throw JSONFieldError(path: r.fieldPath(key), message: "cannot be given together with audio") }
                _ = r.value(key)  // null: absent
            }
            input = .audio(speech.source)
            inputIsList = false
            truncate = false
            let (pooling, normalize) = try Self.readPooling(&r)
            self.pooling = pooling
            self.normalize = normalize
            try r.finish()
            return
        }
        let inputPath = r.fieldPath("input")
        let texts: [String]?
        let raw = r.value("input")
        if case .array? = raw { inputIsList = true } else { inputIsList = false }
        switch raw {
        case nil: texts = nil
        case .string(let s)?: texts = [s]
        case .array(let a)?:
            guard !a.isEmpty else { throw JSONFieldError(path: inputPath, message: "must not be empty") }
            guard a.count <= Self.maxInputs else { throw JSONFieldError(path: inputPath, message: "has more than \(Self.maxInputs) inputs") }
            texts = try a.enumerated().map { i, e in
                guard let s = e.stringValue else { throw JSONFieldError(path: "\(inputPath)[\(i)]", message: "must be a string, not \(e.typeName)") }
                return s
            }
        case let v?: throw JSONFieldError(path: inputPath, message: "must be a string or an array of strings, not \(v.typeName)")
        }
        let tokens = try Self.readTokens(&r)
        let addSpecial = try r.optionalBool("addSpecial")
        switch (texts, tokens) {
        case let (t?, nil):
            input = .texts(t, addSpecial: addSpecial ?? true)
        case let (nil, ids?):
            if addSpecial != nil { throw JSONFieldError(path: r.fieldPath("addSpecial"), message: "applies only to input, not to tokens") }
            input = .tokens(ids)
        case (_?, _?):
            throw JSONFieldError(path: r.fieldPath("tokens"), message: "cannot be given together with input")
        case (nil, nil):
            throw JSONFieldError(path: inputPath, message: "is required (or tokens)")
        }
        let (pooling, normalize) = try Self.readPooling(&r)
        self.pooling = pooling
        self.normalize = normalize
        truncate = try r.optionalBool("truncate") ?? true
        try r.finish()
    }

    /// `pooling` and `normalize` (nil: the model's default).
    static func readPooling(_ r: inout JSONObjectReader) throws -> (Pooling?, Bool?) {
        var pooling: Pooling?
        if let p = try r.optionalString("pooling", maxBytes: 16) {
            pooling = Pooling(rawValue: p)
            if pooling == nil { throw JSONFieldError(path: r.fieldPath("pooling"), message: "must be one of mean, cls, last, none, not \(p)") }
        }
        return (pooling, try r.optionalBool("normalize"))
    }

    /// `tokens`: an array of 1...maxInputs non-empty arrays of token ids.
    static func readTokens(_ r: inout JSONObjectReader) throws -> [[Int32]]? {
        let path = r.fieldPath("tokens")
        guard let outer = try r.optionalArray("tokens", maxCount: maxInputs) else { return nil }
        guard !outer.isEmpty else { throw JSONFieldError(path: path, message: "must not be empty") }
        return try outer.enumerated().map { i, e in
            guard let ids = e.arrayValue else { throw JSONFieldError(path: "\(path)[\(i)]", message: "must be an array of token ids, not \(e.typeName)") }
            guard !ids.isEmpty else { throw JSONFieldError(path: "\(path)[\(i)]", message: "must not be empty") }
            guard ids.count <= GenerateParams.maxPromptTokens else { throw JSONFieldError(path: "\(path)[\(i)]", message: "has more than \(GenerateParams.maxPromptTokens) tokens") }
            return try ids.enumerated().map { j, v in
                guard let n = v.int64Value else {
                    throw JSONFieldError(path: "\(path)[\(i)][\(j)]", message: "must be a token id (an integer), not \(v.typeName)")
                }
                guard n >= 0, n <= Int64(Int32.max) else {
                    throw JSONFieldError(path: "\(path)[\(i)][\(j)]", message: "must be a token id between 0 and \(Int32.max), not \(n)")
                }
                return Int32(n)
            }
        }
    }

    /// The canonical effective request a receipt records (valid `encode` params): the inputs as
    /// the token ids that were encoded (after truncation), the pooling and normalisation used.
    public static func canonicalRequest(tokens: [[Int32]], pooling: Pooling, normalize: Bool) -> JSONValue {
        ["tokens": .array(tokens.map { JSONValue(ints: $0) }), "pooling": .string(pooling.rawValue), "normalize": .bool(normalize)]
    }

    /// The canonical request of a speech `encode`: the audio by the sha256 of its samples, the
    /// pooling and normalisation used.
    public static func canonicalRequest(audioSHA256: String, pooling: Pooling, normalize: Bool) -> JSONValue {
        ["audio": ["sha256": .string(audioSHA256)], "pooling": .string(pooling.rawValue), "normalize": .bool(normalize)]
    }

    /// `{model, embeddings, dimensions, pooling, normalize, tokenCounts, truncated}`: `embeddings`
    /// holds a vector per input, or with pooling `none` a list of vectors (one per token) per input.
    public static func result(model: String, vectors: [[Float]], dimensions: Int, pooling: Pooling, normalize: Bool,
                              tokenCounts: [Int], truncated: [Bool]) -> JSONValue {
        func vector(_ v: ArraySlice<Float>) -> JSONValue { .array(v.map { JSONValue($0) }) }
        let embeddings: [JSONValue] = vectors.map { v in
            guard pooling == .none else { return vector(v[...]) }
            return .array(stride(from: 0, to: v.count, by: dimensions).map { vector(v[$0..<($0 + dimensions)]) })
        }
        return [
            "model": .string(model),
            "embeddings": .array(embeddings),
            "dimensions": JSONValue(dimensions),
            "pooling": .string(pooling.rawValue),
            "normalize": .bool(normalize),
            "tokenCounts": JSONValue(ints: tokenCounts),
            "truncated": .array(truncated.map { .bool($0) }),
        ]
    }
}
