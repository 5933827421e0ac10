// `encode`: embeddings of texts (or token ids) from an encoder model, or from a decoder's final
// hidden states.
import ReproJSON

/// `encode {model?, input: string | [string] | tokens: [[int]], pooling?, normalize?, truncate?, addSpecial?}`.
public struct EncodeParams: Sendable {
    public static let method = "encode"
    public static let maxInputs = 1024

    public enum Input: Sendable, Equatable {
        case texts([String], addSpecial: Bool)
        case tokens([[Int32]])
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
        if let p = try r.optionalString("pooling", maxBytes: 16) {
            guard let pooling = Pooling(rawValue: p) else {
                throw JSONFieldError(path: r.fieldPath("pooling"), message: "must be one of mean, cls, last, none, not \(p)")
            }
            self.pooling = pooling
        } else {
            pooling = nil
        }
        normalize = try r.optionalBool("normalize")
        truncate = try r.optionalBool("truncate") ?? true
        try r.finish()
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
